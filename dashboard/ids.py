"""Every component id in one place (pages import these; tests select by them)."""

# shell
LANG_TOGGLE = "lang-toggle"
WHO = "who"  # the signed-in person's name in the top bar
SIGN_OUT = "sign-out"
SIGN_IN = "sign-in"

# audit trail and people (admins, auditors)
AUDIT_ENTITY = "audit-entity"
AUDIT_TABLE = "audit-table"
AUDIT_CSV = "audit-csv"
AUDIT_DOWNLOAD = "audit-download"
PEOPLE_TABLE = "people-table"
PEOPLE_LOGIN = "people-login"
PEOPLE_NAME = "people-name"
PEOPLE_PASSWORD = "people-password"
PEOPLE_ROLES = "people-roles"
PEOPLE_SITE = "people-site"
PEOPLE_CREATE = "people-create"
PEOPLE_MSG = "people-message"
PEOPLE_TOGGLE = "people-toggle"  # pattern-matching: {"type": PEOPLE_TOGGLE, "login": …}

# wall
WALL = "wall"
WALL_TICK = "wall-tick"  # refresh interval (server callback)
WALL_SECOND = "wall-second"  # clock and freshness (client-side, no server)
WALL_ROTATE = "wall-rotate"  # kiosk rotation timer
WALL_VIEWPORT = "wall-viewport"
WALL_FIGURES = "wall-figures"  # the figures of the last refresh
WALL_STATE = "wall-state"  # {reachable, last_ms, stale_after_s, tz, texts}
WALL_SITE = "wall-site"
WALL_SITE_NAME = "wall-site-name"
WALL_CLOCK = "wall-clock"
WALL_DATE = "wall-date"
WALL_FRESHNESS = "wall-freshness"
WALL_STATUS = "wall-status"
WALL_ALARMS = "wall-alarms"
WALL_KPIS = "wall-kpis"
WALL_MAIN = "wall-main"
WALL_SANKEY = "wall-sankey"
WALL_SANKEY_NOTE = "wall-sankey-note"
WALL_TREND = "wall-trend"
WALL_SANKEY_BOX = "wall-sankey-box"
WALL_TREND_BOX = "wall-trend-box"
WALL_TREND_NOTE = "wall-trend-note"
WALL_VIEW = "wall-view"
WALL_LANG = "wall-lang"
WALL_SIGN_IN = "wall-sign-in"  # the wall menu's sign-in link, when nobody is signed in

# engineer
ENG_ALARM_STATE = "eng-alarm-state"
ENG_ALARM_TICK = "eng-alarm-tick"
ENG_ALARM_TABLE = "eng-alarm-table"
ENG_ALARM_NOTE = "eng-alarm-note"
ENG_COMMENT = "eng-comment"
ENG_SHELVE_MIN = "eng-shelve-minutes"
ENG_ACTIONS = "eng-actions"
ENG_RULE_FORM = "eng-rule-form"
ENG_ACTION_MSG = "eng-action-message"
ENG_RULES = "eng-rules"


def eng_action(action: str) -> str:
    """The button of an alarm action (``ack``, ``shelve``, ``out-of-service`` …)."""
    return f"eng-act-{action}"


ENG_RULE_FIELDS = (
    "name",
    "meter",
    "type",
    "high",
    "low",
    "high_high",
    "low_low",
    "deadband",
    "on_delay_s",
    "off_delay_s",
    "priority",
    "message",
)
ENG_RULE_CREATE = "eng-rule-create"
ENG_RULE_MSG = "eng-rule-result"
ENG_METER = "eng-meter"


def rule_field(name: str) -> str:
    return f"eng-rule-{name}"


# meter drill-down (pattern-matching ids: one per page that shows it)
DD_GRAPH = "dd-graph"
DD_RANGE = "dd-range"
DD_RES = "dd-res"
DD_RAW = "dd-raw"
DD_NOTE = "dd-note"
DD_CSV = "dd-csv"
DD_DOWNLOAD = "dd-download"
DD_CODE = "dd-code"
DD_ZOOM = "dd-zoom"


def dd(kind: str, page: str) -> dict[str, str]:
    return {"type": kind, "page": page}


# manager
MGR_SITE = "mgr-site"
MGR_PERIOD = "mgr-period"
MGR_DATE = "mgr-date"
MGR_ENERGY = "mgr-energy"
MGR_KPIS = "mgr-kpis"
MGR_SCOPES = "mgr-scopes"
MGR_TOP = "mgr-top"
MGR_TREND = "mgr-trend"
MGR_NOTE = "mgr-note"
MGR_COMPARED = "mgr-compared"
MGR_CSV = "mgr-csv"
MGR_DOWNLOAD = "mgr-download"
MGR_STATUS = "mgr-status"

# meter page and site tree
SITES_TREE = "sites-tree"
SITES_PICK = "sites-pick"
SITES_CONTRACT = "sites-contract"
SITES_TILES = "sites-tiles"
SITES_SAVE = "sites-save"
SITES_MSG = "sites-msg"
SITES_READONLY = "sites-readonly"

# zero-carbon page
ZC_SITE = "zc-site"
ZC_YEAR = "zc-year"
ZC_STATUS = "zc-status"
ZC_CARD = "zc-card"
ZC_WATERFALL = "zc-waterfall"
ZC_LEDGER = "zc-ledger"
ZC_WARNINGS = "zc-warnings"
ZC_REPORT_PDF = "zc-report-pdf"
ZC_REPORT_XLSX = "zc-report-xlsx"
ZC_PACKAGE = "zc-package"
ZC_DOWNLOAD = "zc-download"


# benchmarking page
BM_SITE = "bm-site"
BM_START = "bm-start"
BM_END = "bm-end"
BM_CARRIER = "bm-carrier"
BM_STATUS = "bm-status"
BM_RATINGS = "bm-ratings"
BM_BALANCE = "bm-balance"
BM_SANKEY = "bm-sankey"
BM_RECS = "bm-recs"
BM_REC_ID = "bm-rec-id"
BM_REC_STATUS = "bm-rec-status"
BM_REC_REASON = "bm-rec-reason"
BM_REC_APPLY = "bm-rec-apply"
BM_XLSX_RATINGS = "bm-xlsx-ratings"
BM_XLSX_BALANCE = "bm-xlsx-balance"
BM_XLSX_RECS = "bm-xlsx-recs"
BM_DOWNLOAD = "bm-download"
BM_EVIDENCE = "bm-evidence"
BM_PROCESS = "bm-process"
BM_TREND = "bm-trend"

# budgets page
BUD_SITE = "bud-site"
BUD_QUANTITY = "bud-quantity"
BUD_MONTH = "bud-month"
BUD_BURN = "bud-burn"
BUD_TABLE = "bud-table"
BUD_STATUS = "bud-status"

# products (footprints)
PROD_SELECT = "prod-select"
PROD_RANGE = "prod-range"
PROD_STATUS = "prod-status"
PROD_HEADLINE = "prod-headline"
PROD_WATERFALL = "prod-waterfall"
PROD_MATERIALS = "prod-materials"
PROD_SUPPLIERS = "prod-suppliers"
PROD_SUPPLIER_TABLE = "prod-supplier-table"
PROD_SCOPE3 = "prod-scope3"
PROD_XLSX = "prod-xlsx"
PROD_PDF = "prod-pdf"
PROD_DOWNLOAD = "prod-download"

# suppliers
SUP_TICK = "sup-tick"
SUP_STATUS = "sup-status"
SUP_TABLE = "sup-table-box"
SUP_REQUESTS = "sup-requests-box"
SUP_FACTORS = "sup-factors-box"

# forecasts
FC_SITE = "fc-site"
FC_METER = "fc-meter"
FC_HORIZON = "fc-horizon"
FC_STATUS = "fc-status"
FC_FORECAST = "fc-forecast"
FC_FORECAST_TITLE = "fc-forecast-title"
FC_MODEL = "fc-model"
FC_PAST = "fc-past"
FC_ERROR = "fc-error"
FC_TRACKED = "fc-tracked"
