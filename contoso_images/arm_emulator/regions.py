"""Azure's public regions, as ``az account list-locations`` lists them.

The table is the real ``GET /subscriptions/{id}/locations?api-version=2019-11-01`` response
recorded by azure-cli on 2023-11-15, without the entries only Microsoft-internal
subscriptions see (EUAP, Stage, STG, Jio, Brazil US), plus the regions opened since
(taken from a 2025 ``az account list-locations`` listing; ``INFERRED`` names them).
Physical regions host Compute resources; logical ones (``europe``, ``unitedstates``...)
are listed but refuse them, as Azure does. Gallery responses echo target regions by
display name (``"East US 2"``) although requests use names (``eastus2``).

Columns: name | displayName | regionType (P/L) | regionCategory (R = Recommended,
O = Other) | geographyGroup | physicalLocation | latitude | longitude | pairedRegion.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    name: str
    display_name: str
    physical: bool
    category: str  # "Recommended", "Other" or "" (not known)
    geography_group: str
    physical_location: str
    latitude: str
    longitude: str
    paired_region: str

    @property
    def regional_display_name(self) -> str:
        """``(US) East US`` for a region with a geography group, else the display name."""
        return (
            f"({self.geography_group}) {self.display_name}"
            if self.geography_group
            else (self.display_name)
        )


_TABLE = """
eastus|East US|P|R|US|Virginia|37.3719|-79.8164|westus
eastus2|East US 2|P|R|US|Virginia|36.6681|-78.3889|centralus
southcentralus|South Central US|P|R|US|Texas|29.4167|-98.5|northcentralus
westus2|West US 2|P|R|US|Washington|47.233|-119.852|westcentralus
westus3|West US 3|P|R|US|Phoenix|33.448376|-112.074036|eastus
australiaeast|Australia East|P|R|Asia Pacific|New South Wales|-33.86|151.2094|australiasoutheast
southeastasia|Southeast Asia|P|R|Asia Pacific|Singapore|1.283|103.833|eastasia
northeurope|North Europe|P|R|Europe|Ireland|53.3478|-6.2597|westeurope
swedencentral|Sweden Central|P|R|Europe|Gävle|60.67488|17.14127|swedensouth
uksouth|UK South|P|R|Europe|London|50.941|-0.799|ukwest
westeurope|West Europe|P|R|Europe|Netherlands|52.3667|4.9|northeurope
centralus|Central US|P|R|US|Iowa|41.5908|-93.6208|eastus2
southafricanorth|South Africa North|P|R|Africa|Johannesburg|-25.73134|28.21837|southafricawest
centralindia|Central India|P|R|Asia Pacific|Pune|18.5822|73.9197|southindia
eastasia|East Asia|P|R|Asia Pacific|Hong Kong|22.267|114.188|southeastasia
japaneast|Japan East|P|R|Asia Pacific|Tokyo, Saitama|35.68|139.77|japanwest
koreacentral|Korea Central|P|R|Asia Pacific|Seoul|37.5665|126.978|koreasouth
canadacentral|Canada Central|P|R|Canada|Toronto|43.653|-79.383|canadaeast
francecentral|France Central|P|R|Europe|Paris|46.3772|2.373|francesouth
germanywestcentral|Germany West Central|P|R|Europe|Frankfurt|50.110924|8.682127|germanynorth
italynorth|Italy North|P|R|Europe|Milan|45.46888|9.18109|
norwayeast|Norway East|P|R|Europe|Norway|59.913868|10.752245|norwaywest
polandcentral|Poland Central|P|R|Europe|Warsaw|52.23334|21.01666|
switzerlandnorth|Switzerland North|P|R|Europe|Zurich|47.451542|8.564572|switzerlandwest
uaenorth|UAE North|P|R|Middle East|Dubai|25.266666|55.316666|uaecentral
brazilsouth|Brazil South|P|R|South America|Sao Paulo State|-23.55|-46.633|southcentralus
israelcentral|Israel Central|P|R|Middle East|Israel|31.2655698|33.4506633|
qatarcentral|Qatar Central|P|R|Middle East|Doha|25.551462|51.439327|
asia|Asia|L|O|||||
asiapacific|Asia Pacific|L|O|||||
australia|Australia|L|O|||||
brazil|Brazil|L|O|||||
canada|Canada|L|O|||||
europe|Europe|L|O|||||
france|France|L|O|||||
germany|Germany|L|O|||||
global|Global|L|O|||||
india|India|L|O|||||
japan|Japan|L|O|||||
korea|Korea|L|O|||||
norway|Norway|L|O|||||
singapore|Singapore|L|O|||||
southafrica|South Africa|L|O|||||
switzerland|Switzerland|L|O|||||
uae|United Arab Emirates|L|O|||||
uk|United Kingdom|L|O|||||
unitedstates|United States|L|O|||||
unitedstateseuap|United States EUAP|L|O|||||
northcentralus|North Central US|P|O|US|Illinois|41.8819|-87.6278|southcentralus
westus|West US|P|O|US|California|37.783|-122.417|eastus
westcentralus|West Central US|P|O|US|Wyoming|40.89|-110.234|westus2
southafricawest|South Africa West|P|O|Africa|Cape Town|-34.075691|18.843266|southafricanorth
australiacentral|Australia Central|P|O|Asia Pacific|Canberra|-35.3075|149.1244|australiacentral2
australiacentral2|Australia Central 2|P|O|Asia Pacific|Canberra|-35.3075|149.1244|australiacentral
australiasoutheast|Australia Southeast|P|O|Asia Pacific|Victoria|-37.8136|144.9631|australiaeast
japanwest|Japan West|P|O|Asia Pacific|Osaka|34.6939|135.5022|japaneast
koreasouth|Korea South|P|O|Asia Pacific|Busan|35.1796|129.0756|koreacentral
southindia|South India|P|O|Asia Pacific|Chennai|12.9822|80.1636|centralindia
westindia|West India|P|O|Asia Pacific|Mumbai|19.088|72.868|southindia
canadaeast|Canada East|P|O|Canada|Quebec|46.817|-71.217|canadacentral
francesouth|France South|P|O|Europe|Marseille|43.8345|2.1972|francecentral
germanynorth|Germany North|P|O|Europe|Berlin|53.073635|8.806422|germanywestcentral
norwaywest|Norway West|P|O|Europe|Norway|58.969975|5.733107|norwayeast
switzerlandwest|Switzerland West|P|O|Europe|Geneva|46.204391|6.143158|switzerlandnorth
ukwest|UK West|P|O|Europe|Cardiff|53.427|-3.084|uksouth
uaecentral|UAE Central|P|O|Middle East|Abu Dhabi|24.466667|54.366669|uaenorth
brazilsoutheast|Brazil Southeast|P|O|South America|Rio|-22.90278|-43.2075|brazilsouth
austriaeast|Austria East|P||Europe||||
chilecentral|Chile Central|P||South America||||
indonesiacentral|Indonesia Central|P||Asia Pacific||||
malaysiawest|Malaysia West|P||Asia Pacific||||
mexicocentral|Mexico Central|P||Mexico||||
newzealandnorth|New Zealand North|P||Asia Pacific||||
spaincentral|Spain Central|P||Europe||||
belgiumcentral|Belgium Central|P||Europe||||
indonesia|Indonesia|L||||||
israel|Israel|L||||||
italy|Italy|L||||||
malaysia|Malaysia|L||||||
mexico|Mexico|L||||||
newzealand|New Zealand|L||||||
poland|Poland|L||||||
qatar|Qatar|L||||||
spain|Spain|L||||||
sweden|Sweden|L||||||
taiwan|Taiwan|L||||||
"""

# Regions listed by a 2025 az account list-locations, not in the 2023 recording: their
# metadata beyond name, display name and type is not known and is left out.
INFERRED = frozenset(
    {
        "austriaeast",
        "belgiumcentral",
        "chilecentral",
        "indonesiacentral",
        "malaysiawest",
        "mexicocentral",
        "newzealandnorth",
        "spaincentral",
        "indonesia",
        "israel",
        "italy",
        "malaysia",
        "mexico",
        "newzealand",
        "poland",
        "qatar",
        "spain",
        "sweden",
        "taiwan",
    }
)
_CATEGORY = {"R": "Recommended", "O": "Other", "": ""}


def _parse(table: str) -> dict[str, Region]:
    regions = {}
    for line in table.strip().splitlines():
        name, display, kind, category, group, place, lat, lon, pair = line.split("|")
        regions[name] = Region(
            name, display, kind == "P", _CATEGORY[category], group, place, lat, lon, pair
        )
    return regions


REGIONS: dict[str, Region] = _parse(_TABLE)
_BY_DISPLAY = {r.display_name.replace(" ", "").lower(): r.name for r in REGIONS.values()}


def normalize(name: str) -> str:
    """``"West Europe"`` / ``"westeurope"`` / ``"WestEurope"`` → ``"westeurope"``
    (unknown names are lower-cased and returned as they are)."""
    key = name.replace(" ", "").lower()
    return _BY_DISPLAY.get(key, key)


def display(name: str) -> str:
    """The display name of a region (unknown names come back unchanged)."""
    region = REGIONS.get(normalize(name))
    return region.display_name if region else name


def is_physical(name: str) -> bool:
    """Whether Compute resources can live in ``name`` (a known physical region)."""
    region = REGIONS.get(normalize(name))
    return region is not None and region.physical
