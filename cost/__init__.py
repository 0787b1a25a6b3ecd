"""Energy cost under Chinese tariffs: TOU periods by the site's local hours, demand charge,
power-factor adjustment (力调电费), prices of other carriers, cost with derivations, and bill
reconciliation (对账). Design notes: ``cost/README.md``."""
