import datetime

from oakling import App
from oakling.routing import Converter


class DateConverter(Converter):
    """``{day:date}`` matches 2024-05-17 and gives the handler a ``datetime.date``."""

    regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def to_python(self, value: str) -> datetime.date:
        return datetime.date.fromisoformat(value)  # ValueError: the route does not match

    def to_url(self, value: datetime.date) -> str:
        return value.isoformat()


app = App()
app.register_converter("date", DateConverter)  # before the routes that use it


@app.get("/archive/{day:date}")
def archive(day: datetime.date) -> dict[str, str]:
    tomorrow = day + datetime.timedelta(days=1)
    return {"weekday": day.strftime("%A"), "next": app.url_for("archive", day=tomorrow)}
