"""Records built from values that are already checked: a pydantic model's instance without a second validation
(`trusted`), and for the many rows of one tab a constructor checked once (`maker`) whose records share one
table of dict keys, a third smaller than a dict each.

    >>> from functions.models import Period
    >>> trusted(Period, {"year": 2026, "month": 10})
    Period(year=2026, month=10)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
_FIELDS_SET: dict[type, set[str]] = {}
_SHARED: dict[type[BaseModel], dict[str, Any] | None] = {}
_set = object.__setattr__


def trusted(cls: type[M], values: dict[str, Any]) -> M:
    """A record from values that are already of the field types, without validating them again (what
    `model_construct` means, at a third of validation's cost). Values for other fields than the model's
    (a field added to the model and not here) go through validation instead, so nothing is ever skipped."""
    return maker(cls, values)(values)


def maker(cls: type[M], sample: dict[str, Any]) -> Callable[[dict[str, Any]], M]:
    """`trusted` for many records whose values name the same fields as `sample` (the rows of one tab): the
    fields are checked once, here, and each record is built without a check. Each record's `__dict__` shares
    its keys with every other record of the model (CPython's key-sharing dict, as for ordinary instances),
    which is a third smaller than a dict of its own: a parsed Time row holds two of them."""
    if sample.keys() != cls.model_fields.keys():
        return cls.model_validate
    shared = _shared_dict(cls)
    fields_set = _FIELDS_SET.get(cls) or _FIELDS_SET.setdefault(cls, set(cls.model_fields))

    def make(values: dict[str, Any]) -> M:
        obj = _new(cls)
        if shared is not None:
            own = shared.copy()
            own.update(values)
            values = own
        _set(obj, "__dict__", values)
        # one set of field names for every record of a model (the records are frozen; a copy gets its own)
        _set(obj, "__pydantic_fields_set__", fields_set)
        _set(obj, "__pydantic_extra__", None)
        _set(obj, "__pydantic_private__", None)
        return obj

    return make


def _shared_dict(cls: type[BaseModel]) -> dict[str, Any] | None:
    """A `__dict__` for records of the model, with every field (as None), whose copies share one table of keys
    (CPython's split dict), or None when the interpreter makes none. The keys come from a bare instance of a
    plain class made here for the purpose: the model's own key cache is not reliable (anything that set
    attributes on an instance of the model in another order makes the interpreter give up sharing for it)."""
    if cls not in _SHARED:
        holder = type(f"_{cls.__name__}Keys", (), {})()
        for name in cls.model_fields:
            setattr(holder, name, None)
        shared: dict[str, Any] | None = vars(holder).copy()
        # only when it really is smaller than a dict of its own (another interpreter may not share keys)
        if shared is not None and sys.getsizeof(shared) >= sys.getsizeof(dict(shared)):
            shared = None
        _SHARED[cls] = shared
    return _SHARED[cls]
