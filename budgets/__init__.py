"""Energy, carbon and cost budgets (用能与碳排放预算管理): a year's budget per site (or meter) split
into months, and where each budget will land: actual to date, the forecast of the rest of the
period (``forecasting``), the projection and the day it crosses the budget. Its own floor above
``forecasting``, ``carbon`` and ``cost`` because it reads all three; the ``budget`` alarm rules
(``alarms``) read it."""
