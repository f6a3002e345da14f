"""The ActiveCampaign API v3 emulated: accounts under ``/activecampaign/<account>/``, the REST
API at ``api/3/``, webhooks delivered after each change, and a small vendor app at ``app/``."""
