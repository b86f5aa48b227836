"""Reads about posts that carry a rule or feed a page, by sub-domain: posts (posts,
comments, photos, a person's or a circle's posts), feed (the home feed and its cards'
first comments), discovery (explore, hashtag search) and people (people search,
suggestions). Every post read goes through Post.objects.visible_to(viewer).

The public names are re-exported here, so callers write `selectors.post_get_visible`.
"""

from posts.selectors.discovery import (
    EXPLORE_FRESH_SECONDS,
    EXPLORE_KEEP_SECONDS,
    EXPLORE_SIZE,
    EXPLORE_WINDOW,
    HASHTAG_COUNT_SECONDS,
    SEARCH_HASHTAGS,
    SEARCH_MAX_LENGTH,
    hashtag_list_for_search,
    post_list_for_explore,
)
from posts.selectors.feed import (
    FEED_ROUNDS,
    FEED_SLACK,
    FIRST_COMMENTS_KEPT,
    FIRST_COMMENTS_SECONDS,
    comments_attach_first,
    post_list_for_feed,
)
from posts.selectors.people import (
    SEARCH_USERS,
    SUGGESTION_POOL,
    SUGGESTION_POOL_SECONDS,
    user_list_for_search,
    user_list_suggestions,
)
from posts.selectors.posts import (
    comment_get_visible,
    comment_list_for_post,
    detail_prefetches,
    post_get_deletable,
    post_get_for_action,
    post_get_visible,
    post_image_visible,
    post_list_for_author,
    post_list_for_circle,
    post_list_for_circle_grid,
    post_list_for_hashtag,
    post_list_for_profile,
    post_list_saved,
    posts_with_details,
    posts_with_summary,
    user_posts_count,
)
from posts.selectors.targets import comment_notification_targets, post_notification_targets

__all__ = [
    "comment_notification_targets",
    "post_notification_targets",
    "EXPLORE_FRESH_SECONDS",
    "EXPLORE_KEEP_SECONDS",
    "EXPLORE_SIZE",
    "EXPLORE_WINDOW",
    "FEED_ROUNDS",
    "FEED_SLACK",
    "FIRST_COMMENTS_KEPT",
    "FIRST_COMMENTS_SECONDS",
    "HASHTAG_COUNT_SECONDS",
    "SEARCH_HASHTAGS",
    "SEARCH_MAX_LENGTH",
    "SEARCH_USERS",
    "SUGGESTION_POOL",
    "SUGGESTION_POOL_SECONDS",
    "comment_get_visible",
    "comment_list_for_post",
    "comments_attach_first",
    "detail_prefetches",
    "hashtag_list_for_search",
    "post_image_visible",
    "post_get_deletable",
    "post_get_for_action",
    "post_get_visible",
    "post_list_for_author",
    "post_list_for_circle",
    "post_list_for_circle_grid",
    "post_list_for_explore",
    "post_list_for_feed",
    "post_list_for_hashtag",
    "post_list_for_profile",
    "post_list_saved",
    "posts_with_details",
    "posts_with_summary",
    "user_posts_count",
    "user_list_for_search",
    "user_list_suggestions",
]
