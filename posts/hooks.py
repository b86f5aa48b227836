"""What the apps above posts add to the pages posts serves, as named registrations.

The home page is posts' (it is the feed), yet stories — one floor up — put their tray at
its top. stories registers here, from its AppConfig.ready(), a function that gives the
home page its part of the context; posts never imports stories.
"""

from collections.abc import Callable

# f(*, viewer) -> dict merged into the home page's context (stories: the tray)
home_sections: list[Callable] = []
