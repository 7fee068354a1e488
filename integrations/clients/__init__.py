"""One client per outside system, each built on ``integrations.http.Client`` (SOAP ones through ``.soap.SoapClient``)."""

from .benefits_platform import BenefitsPlatformClient, benefits_platform_client

__all__ = ["BenefitsPlatformClient", "benefits_platform_client"]
