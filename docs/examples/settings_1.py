import dataclasses

from oakling import App, Request, Settings


@dataclasses.dataclass(frozen=True, kw_only=True)
class ShopSettings(Settings):
    """The built-in settings plus the shop's own, all read from OAKLING_* variables."""

    currency: str = "EUR"  # OAKLING_CURRENCY=USD
    free_shipping_over: float = 50.0  # OAKLING_FREE_SHIPPING_OVER=75
    payment_providers: tuple[str, ...] = ("card",)  # OAKLING_PAYMENT_PROVIDERS=card,paypal


settings = ShopSettings.from_env()  # environment, then .env, then the defaults
app = App(settings=settings)


@app.get("/shipping")
def shipping(request: Request, total: float) -> dict[str, object]:
    shop: ShopSettings = request.app.settings
    return {
        "free": total >= shop.free_shipping_over,
        "currency": shop.currency,
        "providers": list(shop.payment_providers),
        "debug": shop.debug,
    }
