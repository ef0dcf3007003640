import enum
from typing import Annotated

import msgspec

from oakling import App, Cookie, Header, Query

app = App()


class Sort(enum.Enum):
    NEW = "new"
    TOP = "top"


@app.get("/shops/{shop_id:int}/products")
def products(
    shop_id: int,  # in the path: by name
    tags: list[str],  # a list: ?tags=a&tags=b; required (no default)
    sort: Sort = Sort.NEW,  # enums, Literal, UUID, dates, Decimal... from text
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20,  # constraints
    search: Annotated[str | None, Query(alias="q")] = None,  # ?q=...
    user_agent: Annotated[str, Header()] = "",  # the User-Agent header
    api_key: Annotated[str | None, Header(alias="X-API-Key")] = None,
    theme: Annotated[str, Cookie()] = "light",
) -> dict[str, object]:
    return {
        "shop": shop_id,
        "tags": tags,
        "sort": sort.value,
        "limit": limit,
        "q": search,
        "agent": user_agent,
        "key": api_key,
        "theme": theme,
    }
