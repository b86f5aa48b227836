"""ASGI entry point: Django for HTTP, Channels for /ws/ (served by uvicorn)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "circles.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.wsauth import websocket_auth  # noqa: E402
from messaging.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": websocket_auth(URLRouter(websocket_urlpatterns)),
    }
)

# Everything loaded at start lives as long as the process: keep it out of the collector's
# sweeps, so a full collection walks only what requests create (shorter pauses in p99).
gc.freeze()
