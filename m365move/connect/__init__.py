"""The Connect side of New Subscription mode (DESIGN §4), over connect-openapi-client.

``client`` makes the ConnectClient, ``queries`` reads with RQL, ``requests_api`` changes requests,
``catalog_mapping`` turns Connect items into the domain's plans so the domain planner decides, ``sweep`` is the
schedulable's logic, ``purchase_fulfilment`` and ``tier_config_checks`` are the event handlers' logic, and
``runtime`` runs tasks through connect-extension-runner's own task managers in-process, and ``event_driver`` plays
Connect's side of the EaaS locally against the sandbox (which tasks it sends, and when).
"""
