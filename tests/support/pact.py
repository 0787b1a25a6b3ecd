"""A supplier's PACT v2 ProductFootprint shaped like the specification's example (our own
values): valid against the vendored schema."""

from __future__ import annotations

PACT_SUPPLIER_DOC: dict = {
    "id": "91715e5e-fd0b-4d1c-8fab-76290c46e6ed",
    "specVersion": "2.2.0",
    "version": 1,
    "created": "2024-04-01T00:00:00Z",
    "status": "Active",
    "validityPeriodStart": "2024-04-01T00:00:00Z",
    "validityPeriodEnd": "2026-04-01T00:00:00Z",
    "companyName": "Sheet Metal Supplier Co.",
    "companyIds": [
        "urn:uuid:51131FB5-42A2-4267-A402-0ECFEFAD1619",
        "urn:epc:id:sgln:4063973.00000.8",
    ],
    "productDescription": "Cold-rolled steel sheet, 0.8 mm",
    "productIds": ["urn:gtin:4712345060507"],
    "productCategoryCpc": "41232",
    "productNameCompany": "CR sheet 0.8",
    "comment": "",
    "pcf": {
        "declaredUnit": "kilogram",
        "unitaryProductAmount": "1000",
        "pCfExcludingBiogenic": "1.85",
        "pCfIncludingBiogenic": "1.85",
        "fossilGhgEmissions": "1.85",
        "fossilCarbonContent": "0.0",
        "biogenicCarbonContent": "0.0",
        "dLucGhgEmissions": "0",
        "characterizationFactors": "AR6",
        "ipccCharacterizationFactorsSources": ["AR6"],
        "crossSectoralStandardsUsed": ["GHG Protocol Product standard", "ISO Standard 14067"],
        "productOrSectorSpecificRules": [
            {
                "operator": "Other",
                "ruleNames": ["worldsteel LCI methodology"],
                "otherOperatorName": "worldsteel",
            }
        ],
        "boundaryProcessesDescription": "Cradle-to-gate including iron making and rolling",
        "referencePeriodStart": "2023-01-01T00:00:00Z",
        "referencePeriodEnd": "2024-01-01T00:00:00Z",
        "geographyCountry": "CN",
        "secondaryEmissionFactorSources": [{"name": "ecoinvent", "version": "3.9.1"}],
        "exemptedEmissionsPercent": 1.2,
        "exemptedEmissionsDescription": "Maintenance materials",
        "packagingEmissionsIncluded": False,
        "primaryDataShare": 62.5,
        "dqi": {
            "coveragePercent": 95,
            "technologicalDQR": 1.6,
            "temporalDQR": 1.2,
            "geographicalDQR": 1.0,
            "completenessDQR": 1.4,
            "reliabilityDQR": 1.5,
        },
        "assurance": {
            "assurance": True,
            "coverage": "product level",
            "level": "limited",
            "boundary": "Cradle-to-Gate",
            "providerName": "Verifier Ltd",
        },
    },
}
