"""Supplier data requests expire after their due date (a pinned "today")."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from footprints import jobs, suppliers
from models.footprints import SupplierRequest


def test_open_requests_expire_after_their_due_date(engine) -> None:  # noqa: ANN001
    code = f"SUP-EXP-{uuid.uuid4().hex[:8]}"
    with Session(engine) as s:
        suppliers.create_supplier(s, code, "Late Co", "test", None, None)
        overdue = suppliers.create_request(s, code, "steel", date(2024, 3, 31), "test").id
        due_today = suppliers.create_request(s, code, "resin", date(2024, 4, 1), "test").id
        no_due = suppliers.create_request(s, code, "ink", None, "test").id
        s.commit()
    assert jobs.expire_requests(engine, today=date(2024, 4, 1)) >= 1
    with Session(engine) as s:
        status = {i: s.get(SupplierRequest, i).status for i in (overdue, due_today, no_due)}
        history = s.get(SupplierRequest, overdue).history
    assert status == {overdue: "expired", due_today: "requested", no_due: "requested"}
    assert history[-1]["by"] == "scheduler" and "2024-03-31" in history[-1]["comment"]
