"""Carbon accounting: scopes 1 and 2 by GB/T 32150 / ISO 14064-1 / the GHG Protocol, energy in
tce by GB/T 2589, intensity KPIs, carbon rollups and the annual inventory, every figure with a
reproducible derivation. Plain functions and small classes over a SQLAlchemy session: no HTTP.

Vocabulary (units in names): ``co2_t`` / ``tco2`` tonnes of CO2, ``tco2e`` tonnes of CO2
equivalent, ``tce`` tonnes of standard coal equivalent, ``mwh``/``kwh`` electricity, ``gj`` heat.
"""
