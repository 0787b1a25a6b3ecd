#!/usr/bin/env bash
# Refetches dashboard/vendor/date-fns-zh-CN.min.js: date-fns' zh-CN locale (MIT,
# https://github.com/date-fns/date-fns), the package's own browser build that registers
# window.dateFns.locale.zhCN. Dash's date pickers (dash >= 4) name months and weekdays from
# the locales found there; the dashboard loads this one only when its language is 中文
# (dashboard/app.py). Keep DATE_FNS within the major version dash bundles (dash/dcc
# package-info.json: "date-fns").
set -euo pipefail
DATE_FNS="${DATE_FNS:-4.4.0}"
OUT="$(cd "$(dirname "$0")" && pwd)/date-fns-zh-CN.min.js"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "date-fns@$DATE_FNS" >/dev/null
tar xzf "date-fns-$DATE_FNS.tgz" package/locale/zh-CN/cdn.min.js
{
  printf '/*! date-fns %s zh-CN locale (MIT, https://github.com/date-fns/date-fns), ' "$DATE_FNS"
  printf 'fetched by dashboard/vendor/fetch_date_fns_zh.sh */\n'
  cat package/locale/zh-CN/cdn.min.js
} > "$OUT"
