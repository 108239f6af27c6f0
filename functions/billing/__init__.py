"""The billing engine: the config tabs parsed into a rule book (book.py), a pure engine that turns approved
Time rows into invoice drafts (engine.py, one module per rule family: rates, rollup, rounding, tiers,
retainer, caps, fixed, expenses, discounts, tax, terms), and the Preview tab (preview.py).
docs/billing-rules.md explains every rule with a worked example.
"""
