"""The chain-map API: the tree with node stats, gaps, targets (list, create, correct, to-lead),
permissions, and the OpenAPI schema."""

import pytest
from rest_framework.test import APIClient

from zhiyuan.chains import services
from zhiyuan.chains.models import Node, Target, TargetStatus
from zhiyuan.investments.models import Project

CHAINS = "/api/chains/"
GAPS = "/api/chains/gaps/"
TARGETS = "/api/chains/targets/"


@pytest.fixture
def api(personas):
    def _client(who: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(personas[who])
        return client

    return _client


def test_the_tree_has_every_chain_with_node_stats(api, firm_a):
    services.nodes_map_suggest()
    response = api("leader").get(CHAINS)
    assert response.status_code == 200
    chains = response.json()
    assert [chain["code"] for chain in chains] == ["new_materials", "rail", "health", "prefab"]
    materials = chains[0]
    nodes = [node for segment in materials["segments"] for node in segment["nodes"]]
    assert len(nodes) == Node.objects.filter(segment__chain__code="new_materials").count()
    assert materials["node_count"] == len(nodes)
    carbide = next(node for node in nodes if node["name"] == "硬质合金棒材/刀片")
    assert carbide["position"] == "midstream"
    assert "YG8" in carbide["keywords"] and carbide["industry_codes"] == ["3240"]
    assert carbide["stats"]["firms"] == 1 and carbide["stats"]["strength"] == "weak"
    assert carbide["stats"]["output"] == "500000.00"
    assert carbide["stats"]["conversion"] == {"targets": 0, "leads": 0, "signed": 0}

    one = api("statistics").get(f"{CHAINS}rail/")
    assert one.status_code == 200 and one.json()["name"] == "轨道交通装备配套"
    assert api("leader").get(f"{CHAINS}nonexistent/").status_code == 404


def test_gaps_are_listed_per_chain_with_targets(api, personas, node):
    services.target_create(actor=personas["investment"], node=node("牵引电机"), data={"name": "中车永济电机有限公司"})
    everything = api("leader").get(GAPS).json()
    rail = api("leader").get(GAPS, {"chain": "rail"}).json()
    assert {gap["chain"]["code"] for gap in rail} == {"rail"}
    assert len(everything) > len(rail)
    motors = next(gap for gap in rail if gap["node_name"] == "牵引电机")
    assert motors["stats"]["is_gap"] and motors["stats"]["strength"] == "none"
    assert [target["name"] for target in motors["targets"]] == ["中车永济电机有限公司"]


def test_targets_are_created_listed_and_corrected(api, node):
    motors = node("牵引电机")
    client = api("investment")
    data = {"node": motors.pk, "name": "湘潭电机股份有限公司", "location": "湖南湘潭"}
    response = client.post(TARGETS, data, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["node"] == motors.pk and body["chain"]["code"] == "rail" and body["status"] == "identified"

    duplicate = client.post(TARGETS, {"node": motors.pk, "name": "湘潭电机股份有限公司"}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()["error"]["fields"]
    for bad in ({"node": motors.pk, "name": ""}, {"name": "甲"}, {"node": motors.pk, "name": "甲", "project": 1}):
        assert client.post(TARGETS, bad, format="json").status_code == 400
    assert api("project").post(TARGETS, {"node": motors.pk, "name": "乙"}, format="json").status_code == 403

    listed = api("leader").get(TARGETS, {"chain": "rail"}).json()
    assert listed["count"] == 1 and listed["results"][0]["name"] == "湘潭电机股份有限公司"
    assert api("leader").get(TARGETS, {"chain": "health"}).json()["count"] == 0

    patched = client.patch(f"{TARGETS}{body['id']}/", {"status": "contacted"}, format="json")
    assert patched.status_code == 200 and patched.json()["status"] == "contacted"
    assert client.patch(f"{TARGETS}{body['id']}/", {"status": "lead"}, format="json").status_code == 400


def test_a_target_becomes_a_lead_once(api, personas, node):
    target = services.target_create(
        actor=personas["investment"], node=node("原料药"), data={"name": "浙江华海药业股份有限公司"}
    )
    url = f"{TARGETS}{target.pk}/to-lead/"
    assert api("project").post(url).status_code == 403
    assert api("leader").post(url).status_code == 403

    response = api("investment").post(url)
    assert response.status_code == 201
    body = response.json()
    project = Project.objects.get()
    assert body["project"]["id"] == project.pk and body["project"]["stage"] == "lead"
    assert body["target"]["status"] == TargetStatus.LEAD and body["target"]["project"]["id"] == project.pk
    assert project.chain == "health"

    again = api("investment").post(url)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert Project.objects.count() == 1
    assert api("investment").post(f"{TARGETS}999999/to-lead/").status_code == 404


@pytest.mark.parametrize("role", ["firm_a", "firm_b", "bank", "city"])
def test_outsiders_get_403_everywhere(api, personas, node, role):
    target = services.target_create(actor=personas["investment"], node=node("原料药"), data={"name": "甲药业"})
    client = api(role)
    for url in (CHAINS, f"{CHAINS}rail/", GAPS, TARGETS, f"{TARGETS}{target.pk}/"):
        assert client.get(url).status_code == 403, url
    assert client.post(TARGETS, {"node": target.node_id, "name": "乙"}, format="json").status_code == 403
    assert client.post(f"{TARGETS}{target.pk}/to-lead/").status_code == 403
    assert Target.objects.count() == 1 and not Project.objects.exists()


def test_anonymous_callers_are_refused(db):
    assert APIClient().get(CHAINS).status_code in (401, 403)


def test_the_schema_documents_the_chains_api(api):
    response = api("leader").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, method in [
        ("/api/chains/", "get"),
        ("/api/chains/{code}/", "get"),
        ("/api/chains/gaps/", "get"),
        ("/api/chains/targets/", "get"),
        ("/api/chains/targets/", "post"),
        ("/api/chains/targets/{id}/", "patch"),
        ("/api/chains/targets/{id}/to-lead/", "post"),
    ]:
        assert method in paths[path], path
    assert {"201", "409"} <= set(paths["/api/chains/targets/{id}/to-lead/"]["post"]["responses"])
    schemas = response.json()["components"]["schemas"]
    assert {"ChainTree", "Gap", "Target", "NodeStats"} <= set(schemas)
