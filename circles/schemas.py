"""The API's page of a list and its query parameters (shared/API.md, "Pagination"), apart
from circles.pagination so that selectors, which every process imports, do not bring in
pydantic: the Celery worker never answers an API request."""

from typing import Generic, TypeVar

from ninja import Schema
from pydantic import Field

from circles.pagination import DEFAULT_LIMIT, MAX_LIMIT

T = TypeVar("T")


class PageParams(Schema):
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class Page(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None
