"""PCO's HTTP API: the client, JSON:API documents, typed records and offset pagination."""

from pco_core.pco.client import (
    API_VERSIONS,
    PcoClient,
    RateInfo,
    api_version_for,
    parse_rate,
    raise_for_pco_status,
)
from pco_core.pco.jsonapi import Document, Relationship, Resource, ResourceIdentifier
from pco_core.pco.models import (
    PcoAddress,
    PcoEmail,
    PcoGroup,
    PcoHousehold,
    PcoMembership,
    PcoPerson,
    PcoPersonMerger,
    PcoPhone,
    normalise_gender,
)
from pco_core.pco.paginate import MAX_PER_PAGE, OffsetPaginator

__all__ = [
    "API_VERSIONS",
    "MAX_PER_PAGE",
    "Document",
    "OffsetPaginator",
    "PcoAddress",
    "PcoClient",
    "PcoEmail",
    "PcoGroup",
    "PcoHousehold",
    "PcoMembership",
    "PcoPerson",
    "PcoPersonMerger",
    "PcoPhone",
    "RateInfo",
    "Relationship",
    "Resource",
    "ResourceIdentifier",
    "api_version_for",
    "normalise_gender",
    "parse_rate",
    "raise_for_pco_status",
]
