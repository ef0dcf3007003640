from oakling import App, Request
from oakling.web import Template, render

app = App()
app.static()  # the files of static/ next to this module, at /static


@app.template_filter
def money(cents: int) -> str:
    return f"{cents / 100:.2f} €"


@app.get("/")
def menu(request: Request) -> Template:
    dishes = [{"name": "Tea", "price": 350}, {"name": "<Cake>", "price": 420}]
    return render(request, "menu.html", title="Menu", dishes=dishes)
