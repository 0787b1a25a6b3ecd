#!/usr/bin/env bash
# Rebuilds dashboard/vendor/plotly-ecc.min.js: plotly.js with only the traces the dashboard
# draws (scatter, bar, sankey), 1.4 MB instead of 4.8 MB, so a wall screen's browser runs it
# in a third of the time. The dashboard serves it in place of plotly.py's full bundle
# (dashboard/app.py). Keep PLOTLY_JS equal to `python -c "import plotly.offline as o;
# print(o.get_plotlyjs_version())"` when plotly is upgraded.
set -euo pipefail
PLOTLY_JS="${PLOTLY_JS:-4.1.1}"
OUT="$(cd "$(dirname "$0")" && pwd)/plotly-ecc.min.js"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts "plotly.js@$PLOTLY_JS" esbuild@0 \
  esbuild-plugin-inline-css@0 >/dev/null
cat > entry.js <<'JS'
'use strict';
var Plotly = require('plotly.js/lib/core');
Plotly.register([require('plotly.js/lib/scatter'), require('plotly.js/lib/bar'),
                 require('plotly.js/lib/sankey')]);
module.exports = Plotly;
JS
cat > build.js <<JS
require('esbuild').build({
  entryPoints: ['./entry.js'], outfile: '$OUT', format: 'iife', globalName: 'Plotly',
  bundle: true, minify: true, target: 'es2016', legalComments: 'inline',
  plugins: [require('esbuild-plugin-inline-css')()],
  define: {global: 'window', 'define.amd': 'false'},
  banner: {js: '/*! plotly.js $PLOTLY_JS (MIT, https://github.com/plotly/plotly.js): core + ' +
               'scatter + bar + sankey, built by dashboard/vendor/build_plotly.sh */'},
}).catch(() => process.exit(1));
JS
node build.js
echo "wrote $OUT"
