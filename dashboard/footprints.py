"""What the products and suppliers page needs from the API (footprints, supply chain,
suppliers with their data requests), fetched in parallel through the dashboard's client."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dashboard.client import ApiClient, ApiError, NotAvailable, Unreachable


@dataclass
class ProductsView:
    reachable: bool = True
    available: bool = True
    products: list[dict] = field(default_factory=list)
    footprint: dict | None = None
    supply_chain: dict | None = None
    suppliers: list[dict] = field(default_factory=list)
    error: str | None = None


def products_view(
    api: ApiClient, product: str | None, start: datetime, end: datetime
) -> ProductsView:
    view = ProductsView()
    try:
        view.products = api.get("/api/v1/products")
    except Unreachable:
        return ProductsView(reachable=False)
    except NotAvailable:
        return ProductsView(available=False)
    code = product or (view.products[0]["code"] if view.products else None)
    sc = api.submit(api.get, "/api/v1/footprints/supply-chain", start=start, end=end)
    sup = api.submit(api.get, "/api/v1/suppliers")
    if code is not None:
        try:
            view.footprint = api.get("/api/v1/footprints", product=code, start=start, end=end)
        except ApiError as exc:
            view.error = f"{code}: {exc.detail}"
    for fut, name in ((sc, "supply_chain"), (sup, "suppliers")):
        try:
            setattr(view, name, fut.result())
        except ApiError as exc:
            view.error = view.error or exc.detail
    return view


@dataclass
class SuppliersView:
    reachable: bool = True
    available: bool = True
    suppliers: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    factors: list[dict] = field(default_factory=list)


def suppliers_view(api: ApiClient) -> SuppliersView:
    paths = ("/api/v1/suppliers", "/api/v1/supplier-requests", "/api/v1/supplier-factors")
    futures = [api.submit(api.get, p) for p in paths]
    try:
        suppliers, requests, factors = (f.result() for f in futures)
    except Unreachable:
        return SuppliersView(reachable=False)
    except NotAvailable:
        return SuppliersView(available=False)
    return SuppliersView(suppliers=suppliers, requests=requests, factors=factors)


def material_rows(fp: dict | None) -> list[dict]:
    """The product's materials by emissions per declared unit (the product's hotspots)."""
    if not fp:
        return []
    return [
        {
            "label": f"{m['material']} ({m['supplier']})" if m["supplier"] else m["material"],
            "kg": m["kgco2e_per_unit"],
        }
        for m in fp["by_material"]
    ]


def report_bytes(
    api: ApiClient, product: str, start: datetime, end: datetime, fmt: str, lang: str
) -> bytes:
    return api.get_bytes(
        "/api/v1/footprints/report", product=product, start=start, end=end, format=fmt, lang=lang
    )
