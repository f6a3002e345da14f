"""The Salesforce sandbox: REST, sObject Collections, SOQL and the SOAP calls integrations use.

Wire: ``urls`` → ``oauth`` (token, identity), ``views`` (REST resources), ``composite``
(sObject Collections), ``soap`` (login, merge, convertLead); ``api`` is the REST front door
(token, limits, faults, JSON errors).
Rules: ``records`` (every write), ``person_accounts``, ``duplicates``, ``operations``
(merge, convertLead), ``query`` (SOQL with cursors), ``access`` (tokens, API allowance,
faults). Data: ``schema`` and ``describe`` (objects and fields), ``store`` (rows and key
index), ``values`` (field formats), ``ids``, ``errors``. Set-up: ``orgs``, ``seed``.
"""
