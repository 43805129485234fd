"""Field values that make a valid resting day order, for forms and prompts of any dialect.

Keyed by field name across the dialects; for each field the first candidate that the field's
choices allow is the default (e.g. display `" "` in JNX, `"Y"` in NASDAQ).
"""

from __future__ import annotations

from typing import Any

DAY_ORDER_DEFAULTS: dict[str, tuple[Any, ...]] = {
    "client_reference": ("",),
    "buy_sell_indicator": ("B",),
    "quantity": (100,),
    "shares": (100,),
    "group": ("DAY",),
    "time_in_force": (99999,),
    "firm_id": (0,),
    "firm": ("",),
    "display": (" ", "Y"),
    "capacity": ("A",),
    "minimum_quantity": (0,),
    "order_classification": ("1",),
    "cash_margin_type": ("1",),
    "intermarket_sweep_eligibility": ("N",),
    "cross_type": ("N",),
    "customer_type": (" ", "N"),
}
