#!/usr/bin/env python3
"""Drive the ARM emulator with Microsoft's official Azure SDKs for Python.

Usage: sdk_check.py ARM_URL

Creates a resource group, an Azure OpenAI account and deployment, an API Management service and
a Front Door profile + endpoint through the SDKs' own long-running-operation pollers, and checks
the results. Exits non-zero on any disagreement.
"""
import sys
import time

from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.apimanagement import ApiManagementClient
from azure.mgmt.apimanagement import models as apim_models
from azure.mgmt.cdn import CdnManagementClient
from azure.mgmt.cdn import models as cdn_models
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices import models as cs_models
from azure.mgmt.resource.resources import ResourceManagementClient

SUB = "00000000-0000-0000-0000-0000000000dd"
RG = "rg-sdk"


class DummyCredential:
    """Any token: the emulator only checks that one is sent."""

    def get_token(self, *scopes, **kwargs):
        return AccessToken("dummy-token", int(time.time()) + 3600)


class BearerOverHttp(SansIOHTTPPolicy):
    """The SDKs refuse bearer tokens over plain http; the emulator listens on loopback http."""

    def on_request(self, request):
        request.http_request.headers["Authorization"] = "Bearer dummy-token"


def clients(url):
    kw = dict(base_url=url, authentication_policy=BearerOverHttp(), polling_interval=0.05)
    cred = DummyCredential()
    return (
        ResourceManagementClient(cred, SUB, **kw),
        CognitiveServicesManagementClient(cred, SUB, **kw),
        ApiManagementClient(cred, SUB, **kw),
        CdnManagementClient(cred, SUB, **kw),
    )


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def main():
    url = sys.argv[1]
    res, cs, apim, cdn = clients(url)

    rg = res.resource_groups.create_or_update(RG, {"location": "westeurope"})
    check(rg.name == RG and rg.location == "westeurope", "resource group created")

    acc = cs.accounts.begin_create(
        RG,
        "aoai-sdk",
        cs_models.Account(
            location="westeurope",
            kind="OpenAI",
            sku=cs_models.Sku(name="S0"),
            properties=cs_models.AccountProperties(custom_sub_domain_name="aoai-sdk"),
        ),
    ).result()
    check(acc.properties.provisioning_state == "Succeeded", "AOAI account poller finished Succeeded")
    check(acc.properties.endpoint == "https://aoai-sdk.openai.azure.com/", "AOAI endpoint is server-set")

    dep = cs.deployments.begin_create_or_update(
        RG,
        "aoai-sdk",
        "gpt-5.4-mini",
        cs_models.Deployment(
            sku=cs_models.Sku(name="GlobalStandard", capacity=1),
            properties=cs_models.DeploymentProperties(
                model=cs_models.DeploymentModel(format="OpenAI", name="gpt-5.4-mini", version="2026-03-17")
            ),
        ),
    ).result()
    check(dep.properties.provisioning_state == "Succeeded", "deployment poller finished Succeeded")

    svc = apim.api_management_service.begin_create_or_update(
        RG,
        "apim-sdk",
        apim_models.ApiManagementServiceResource(
            location="westeurope",
            sku=apim_models.ApiManagementServiceSkuProperties(name="Developer", capacity=1),
            publisher_email="p@contoso.com",
            publisher_name="Contoso",
            identity=apim_models.ApiManagementServiceIdentity(type="SystemAssigned"),
        ),
    ).result()
    check(svc.provisioning_state == "Succeeded", "APIM poller finished Succeeded (activation)")
    check(svc.gateway_url == "https://apim-sdk.azure-api.net", "APIM gateway URL is server-set")
    check(bool(svc.identity and svc.identity.principal_id), "APIM system identity has a principal id")

    prof = cdn.profiles.begin_create(
        RG, "afd-sdk", cdn_models.Profile(location="global", sku=cdn_models.Sku(name="Premium_AzureFrontDoor"))
    ).result()
    check(prof.provisioning_state == "Succeeded", "Front Door profile poller finished Succeeded")
    ep = cdn.afd_endpoints.begin_create(RG, "afd-sdk", "ep-sdk", cdn_models.AFDEndpoint(location="global")).result()
    check(ep.host_name.startswith("ep-sdk-") and ep.host_name.endswith(".z01.azurefd.net"), "AFD endpoint host name is server-set")

    got = cs.accounts.get(RG, "aoai-sdk")
    check(got.properties.custom_sub_domain_name == "aoai-sdk", "GET returns what was created")
    print("sdk_check: all passed")


if __name__ == "__main__":
    main()
