"""The stats page (/admin/stats/), inside the admin: staff only (the admin site's own
login check wraps it)."""

from datetime import datetime

from django.contrib import admin
from django.template.response import TemplateResponse

from staff import stats

CHART_TITLES = {
    "new_people": "New people",
    "posts": "Posts",
    "messages": "Messages",
    "stories": "Stories",
}


def stats_page(request):
    figures = stats.stats_collect()
    charts = [
        {"title": title, **stats.chart_bars(figures["daily"][name])}
        for name, title in CHART_TITLES.items()
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Stats",
        "stats": figures,
        "generated_at": datetime.fromisoformat(figures["generated_at"]),
        "charts": charts,
    }
    return TemplateResponse(request, "staff/stats.html", context)
