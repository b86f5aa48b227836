"""Views for tests/platform/test_asgi.py: a file, a stream that never ends, and the
project's own URLs."""

import asyncio
import io

from django.http import FileResponse, StreamingHttpResponse
from django.urls import include, path

FILE_BYTES = bytes(range(256)) * 1024  # 256 KB: more than one of the handler's chunks


def a_file(request):
    return FileResponse(io.BytesIO(FILE_BYTES), content_type="application/octet-stream")


async def _forever():
    while True:
        yield b"tick\n"
        await asyncio.sleep(0.01)


def endless(request):
    return StreamingHttpResponse(_forever(), content_type="text/plain")


urlpatterns = [
    path("test-file", a_file),
    path("test-endless", endless),
    path("", include("circles.urls")),
]
