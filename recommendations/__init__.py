"""Recommendations (用能策略推荐): analysers that read the data and propose actions with their
evidence, savings per year (kWh, CNY, tCO2), a confidence and a status workflow; verified
savings (IPMVP option B/C) once an action is done."""
