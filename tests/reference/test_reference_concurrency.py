"""Many threads against the threaded server: no torn or lost updates, uniqueness holds under races."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from conformance.reference.world import Cluster
from refhelpers import ANCHOR, ROLES, create_params, threaded_server, url_client

PAIRS = {"on-active": ROLES["active_cluster_id"], "on-related": ROLES["related_cluster_id"]}


def test_updates_are_atomic_under_concurrent_describe():
    with threaded_server() as (endpoint, backend):
        setup = url_client(endpoint)
        sid = setup.create_custom_key_store(**create_params("on-active"))["CustomKeyStoreId"]
        torn: list[tuple[str, str]] = []
        stop = threading.Event()

        kms = setup  # boto3 clients are thread-safe; one client, its own connection pool

        def writer(i: int) -> int:
            n = 0
            for j in range(15):
                name = "on-related" if (i + j) % 2 else "on-active"
                kms.update_custom_key_store(CustomKeyStoreId=sid, NewCustomKeyStoreName=name,
                                            CloudHsmClusterId=PAIRS[name])
                n += 1
            return n

        def reader() -> int:
            n = 0
            while not stop.is_set():
                e = kms.describe_custom_key_stores(CustomKeyStoreId=sid)["CustomKeyStores"][0]
                if PAIRS[e["CustomKeyStoreName"]] != e["CloudHsmClusterId"]:
                    torn.append((e["CustomKeyStoreName"], e["CloudHsmClusterId"]))
                n += 1
            return n

        with ThreadPoolExecutor(max_workers=8) as pool:
            readers = [pool.submit(reader) for _ in range(3)]
            writes = sum(f.result() for f in [pool.submit(writer, i) for i in range(5)])
            stop.set()
            reads = sum(f.result() for f in readers)
        assert writes == 75 and reads > 0
        assert torn == []
        final = backend.snapshot()
        assert len(final) == 1 and PAIRS[final[0]["CustomKeyStoreName"]] == final[0]["CloudHsmClusterId"]


def test_racing_creates_and_renames_keep_names_unique():
    with threaded_server() as (endpoint, backend):
        for i in range(8):
            cid = f"cluster-racestore{'abcdefgh'[i]}x"
            backend.world.add_cluster(Cluster(cluster_id=cid, lineage=f"R{i}", certificate=ANCHOR))
            backend.world.set_hsms(cid, [("us-east-1a", "ACTIVE"), ("us-east-1b", "ACTIVE")])
        barrier = threading.Barrier(8)
        kms = url_client(endpoint)

        def create(i: int) -> str:
            barrier.wait()
            try:
                kms.create_custom_key_store(**create_params("contested", cluster=f"cluster-racestore{'abcdefgh'[i]}x"))
                return "ok"
            except ClientError as exc:
                return exc.response["Error"]["Code"]

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(create, range(8)))
        assert results.count("ok") == 1
        assert set(results) == {"ok", "CustomKeyStoreNameInUseException"}

        # every store gets its own name, then all race to rename to one name: exactly one wins
        ids = [s["CustomKeyStoreId"] for s in backend.snapshot()]
        free = [f"cluster-racestore{c}x" for c in "abcdefgh"
                if f"cluster-racestore{c}x" not in {s["CloudHsmClusterId"] for s in backend.snapshot()}]
        for n, cid in enumerate(free[:4]):
            ids.append(kms.create_custom_key_store(**create_params(f"own-{n}", cluster=cid))["CustomKeyStoreId"])
        barrier = threading.Barrier(len(ids))

        def rename(sid: str) -> str:
            barrier.wait()
            try:
                kms.update_custom_key_store(CustomKeyStoreId=sid, NewCustomKeyStoreName="winner")
                return "ok"
            except ClientError as exc:
                return exc.response["Error"]["Code"]

        with ThreadPoolExecutor(max_workers=len(ids)) as pool:
            renames = list(pool.map(rename, ids))
        names = [s["CustomKeyStoreName"] for s in backend.snapshot()]
        assert len(names) == len(set(names)) == 5
        assert renames.count("ok") == 1
