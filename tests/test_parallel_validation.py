"""SHACL at scale: pySHACL on partitions gives exactly pySHACL's result on the whole graph."""

from __future__ import annotations

import logging

import pyshacl
import pytest
from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SH

from vetgraph import synth
from vetgraph.config import UNCONFIRMED_GRAPH, VET_NS
from vetgraph.validation import PYSHACL_OPTIONS
from vetgraph.validation.partitioned import Unpartitionable, closure, plan, validate_partitioned

OPTIONS = PYSHACL_OPTIONS  # the options `vetgraph validate` runs pySHACL with
VET = VET_NS
ID = synth.SYNTH_BASE


def structure(graph: Graph, node):
    """A complex path as nested tuples: its structure, not its blank-node labels."""
    if isinstance(node, BNode):
        return tuple(sorted((str(p), structure(graph, o)) for p, o in graph.predicate_objects(node)))
    return node


def result_keys(report: Graph) -> set[tuple]:
    """What a result says: focus node, path, constraint component, severity, value, source shape, message."""
    keys = set()
    for result in report.objects(None, SH.result):
        path = structure(report, report.value(result, SH.resultPath))
        keys.add(
            (
                report.value(result, SH.focusNode),
                path,
                report.value(result, SH.sourceConstraintComponent),
                report.value(result, SH.resultSeverity),
                report.value(result, SH.value),
                report.value(result, SH.sourceShape),
                report.value(result, SH.resultMessage),
            )
        )
    return keys


def full_run(data: Graph, loaded) -> tuple[bool, set[tuple]]:
    conforms, report, _ = pyshacl.validate(data, shacl_graph=loaded.shapes, ont_graph=loaded.ontology, **OPTIONS)
    return conforms, result_keys(report)


def with_faults(data: Graph) -> Graph:
    """Violations of many kinds, several of which only show when a partition sees another one's triples."""
    data.set((URIRef(ID + "2/insight/3"), URIRef(VET + "number"), Literal(2)))  # duplicate number (SPARQL)
    data.set((URIRef(ID + "3/project/1"), URIRef(VET + "presentedIn"), URIRef(ID + "3/topic/1")))  # sh:class
    data.remove((URIRef(synth.SHARED_BASE + "agent/5"), None, None))  # shared org gone: sh:class elsewhere
    data.add((URIRef(ID + "4/insight/7"), URIRef(str(synth.DCT) + "title"), Literal("A title", lang="en")))
    data.set((URIRef(ID + "5/vision"), RDFS.label, Literal("no language tag")))
    data.set((URIRef(ID + "6/report"), URIRef(VET + "declaredInsightCount"), Literal(7)))  # count and range
    data.set((URIRef(ID + "7/project/2"), URIRef(VET + "country"), URIRef(synth.COUNTRY + "Germany")))
    attribution = BNode()  # a blank-node focus node without its required agent
    data.add((URIRef(ID + "8/report"), PROV.qualifiedAttribution, attribution))
    data.add((attribution, RDF.type, PROV.Attribution))
    data.add((attribution, RDFS.label, Literal("Synthetic attribution without agent", lang="en")))
    data.add((attribution, URIRef(str(synth.DCT) + "source"), URIRef(synth.SOURCE_BASE + "8/report")))
    data.add((attribution, PROV.hadRole, URIRef(synth.SHARED_BASE + "role/author")))
    return data


@pytest.mark.slow
def test_equals_a_full_pyshacl_run_on_the_10x_corpus(loaded):
    data = synth.generate_union(10)
    conforms, expected = full_run(data, loaded)
    assert expected, "the 10x corpus has completeness warnings"
    for jobs in (1, 2):
        partitioned_conforms, report = validate_partitioned(
            data, loaded.shapes, loaded.ontology, jobs=jobs, partitions=6, **OPTIONS
        )
        assert partitioned_conforms == conforms
        assert result_keys(report) == expected


@pytest.mark.slow
def test_equals_a_full_pyshacl_run_with_violations_across_partitions(loaded):
    data = with_faults(synth.generate_union(9))
    conforms, expected = full_run(data, loaded)
    assert not conforms
    components = {key[2] for key in expected if key[3] == SH.Violation}
    assert {SH.ClassConstraintComponent, SH.SPARQLConstraintComponent, SH.MinCountConstraintComponent} <= components
    assert any(isinstance(key[0], BNode) for key in expected)
    # Small partitions, so that reports, the shared resources and their users sit in different partitions.
    partitioned_conforms, report = validate_partitioned(
        data, loaded.shapes, loaded.ontology, jobs=2, partitions=17, **OPTIONS
    )
    assert (partitioned_conforms, result_keys(report)) == (conforms, expected)


def test_equals_a_full_pyshacl_run_on_the_real_data(loaded):
    data = loaded.union()
    conforms, expected = full_run(data, loaded)
    partitioned_conforms, report = validate_partitioned(
        data, loaded.shapes, loaded.ontology, jobs=2, partitions=3, **OPTIONS
    )
    assert (partitioned_conforms, result_keys(report)) == (conforms, expected)


def test_partitions_are_disjoint_and_cover_every_focus_node(loaded):
    data = synth.generate_union(3)
    planned = plan(data, loaded.shapes, loaded.ontology, partitions=5)
    owned = [node for part in planned.partitions for node in part]
    assert len(owned) == len(set(owned))
    assert set(owned) == set().union(*planned.focus.values())


def test_a_partition_keeps_what_cross_resource_constraints_read(loaded):
    """The uniqueness of numbers per report reads the other components of the same report; the report's
    count of Lighthouse projects reads the projects that point to it (an inverse step)."""
    data = synth.generate_union(3)
    planned = plan(data, loaded.shapes, loaded.ontology, partitions=40)
    insight = URIRef(ID + "2/insight/4")
    report = URIRef(ID + "2/report")
    part_of_insight = next(i for i, part in enumerate(planned.partitions) if insight in part)
    part_graph = closure(data, loaded.ontology, planned, part_of_insight)
    for other in range(1, 9):  # the other insights' numbers, via the report
        assert (URIRef(ID + f"2/insight/{other}"), URIRef(VET + "number"), None) in part_graph
    part_of_report = next(i for i, part in enumerate(planned.partitions) if report in part)
    report_graph = closure(data, loaded.ontology, planned, part_of_report)
    projects = set(report_graph.subjects(URIRef(VET + "presentedIn"), report))
    assert len(projects) == synth.LIGHTHOUSE_PROJECTS + synth.GOOD_PRACTICES
    lighthouse = URIRef(VET + "LighthouseProject")
    assert len({p for p in projects if (p, RDF.type, lighthouse) in report_graph}) == synth.LIGHTHOUSE_PROJECTS
    # ... and far from the whole graph.
    assert len(part_graph) < len(data) / 4 and len(report_graph) < len(data) / 4


def test_shapes_it_cannot_bound_fall_back_to_one_pyshacl_run(loaded):
    shapes = Graph()
    for triple in loaded.shapes:
        shapes.add(triple)
    rule = BNode()
    shapes.add((URIRef("https://w3id.org/vetgraph/shapes#ReportShape"), SH.rule, rule))
    shapes.add((rule, RDF.type, SH.TripleRule))
    data = with_faults(synth.generate_union(2))
    with pytest.raises(Unpartitionable, match="sh:rule"):
        plan(data, shapes, loaded.ontology)
    conforms, report = validate_partitioned(data, loaded.shapes, loaded.ontology, jobs=2, inference="rdfs")
    expected_conforms, expected_report, _ = pyshacl.validate(
        data, shacl_graph=loaded.shapes, ont_graph=loaded.ontology, inference="rdfs"
    )
    assert (conforms, result_keys(report)) == (expected_conforms, result_keys(expected_report))


def test_unchanged_partitions_come_from_the_cache(loaded, tmp_path, caplog):
    data = synth.generate_union(3)
    caplog.set_level(logging.INFO, logger="vetgraph.validation.partitioned")

    def run() -> tuple[bool, set[tuple], str]:
        caplog.clear()
        conforms, report = validate_partitioned(
            data, loaded.shapes, loaded.ontology, jobs=2, partitions=4, cache_dir=tmp_path, **OPTIONS
        )
        return conforms, result_keys(report), caplog.text

    first = run()
    second = run()
    assert first[:2] == second[:2]
    assert "0 of" in first[2] and "from the cache" in first[2]
    parts = len(plan(data, loaded.shapes, loaded.ontology, partitions=4).partitions)
    assert f"{parts} of {parts} partitions from the cache" in second[2]
    # One changed label: its partition is validated again, and the new violation is reported.
    data.set((URIRef(ID + "2/insight/5"), RDFS.label, Literal("no language tag")))
    changed = run()
    assert f"{parts - 1} of {parts} partitions from the cache" in changed[2]
    assert not changed[0]
    assert changed[1] == full_run(data, loaded)[1]


def test_a_dataset_counts_as_the_union_of_its_graphs(loaded):
    """A second title in the graph of unconfirmed statements breaks dct:title's maxCount only in the union."""
    dataset = synth.generate(3)
    insight = URIRef(ID + "2/insight/2")
    dataset.graph(URIRef(UNCONFIRMED_GRAPH)).add((insight, DCTERMS.title, Literal("Second title", lang="en")))
    union = synth.generate_union(3)
    union.add((insight, DCTERMS.title, Literal("Second title", lang="en")))
    conforms, expected = full_run(union, loaded)
    assert not conforms and any(key[0] == insight for key in expected)
    partitioned_conforms, report = validate_partitioned(
        dataset, loaded.shapes, loaded.ontology, jobs=2, partitions=5, **OPTIONS
    )
    assert (partitioned_conforms, result_keys(report)) == (conforms, expected)


def test_a_class_hierarchy_stated_in_the_data_reaches_every_partition(loaded):
    """sh:class and class targets follow rdfs:subClassOf wherever it is stated, also in the data."""
    data = synth.generate_union(4)
    special = URIRef("https://example.org/synthetic/SpecialOrganisation")
    data.add((special, RDFS.subClassOf, URIRef("http://www.w3.org/ns/org#Organization")))
    for k in range(1, synth.SHARED_ORGANISATIONS + 1):  # the orgs members point to, typed only by the subclass
        agent = URIRef(synth.SHARED_BASE + f"agent/{k}")
        data.remove((agent, RDF.type, None))
        data.add((agent, RDF.type, special))
    data.remove((URIRef(synth.SHARED_BASE + "agent/3"), RDFS.label, None))  # a target only through the subclass
    conforms, expected = full_run(data, loaded)
    assert any(key[0] == URIRef(synth.SHARED_BASE + "agent/3") for key in expected)
    partitioned_conforms, report = validate_partitioned(
        data, loaded.shapes, loaded.ontology, jobs=2, partitions=9, **OPTIONS
    )
    assert (partitioned_conforms, result_keys(report)) == (conforms, expected)


LIFT_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:Named a sh:PropertyShape ; sh:path ex:name ; sh:minCount 1 ; sh:datatype xsd:string .
ex:ThingShape a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property ex:Named ,
    [ sh:path ex:size ; sh:maxCount 1 ; sh:datatype xsd:integer ] .
ex:OtherShape a sh:NodeShape ; sh:targetClass ex:Other ; sh:property ex:Named .
ex:PartShape a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .
ex:WholeShape a sh:NodeShape ; sh:targetClass ex:Whole ; sh:property [ sh:path ex:part ; sh:node ex:PartShape ] .
ex:OffShape a sh:NodeShape ; sh:targetClass ex:Thing ; sh:deactivated true ;
    sh:property [ sh:path ex:colour ; sh:minCount 1 ] .
ex:PickShape a sh:NodeShape ; sh:targetClass ex:Whole ;
    sh:property [ sh:path ex:part ; sh:qualifiedValueShape [ sh:class ex:Thing ] ; sh:qualifiedMinCount 1 ;
                  sh:qualifiedValueShapesDisjoint true ] ,
                [ sh:path ex:part ; sh:qualifiedValueShape [ sh:class ex:Other ] ; sh:qualifiedMinCount 1 ;
                  sh:qualifiedValueShapesDisjoint true ] .
"""

LIFT_DATA = """
@prefix ex: <http://example.org/> .
ex:a a ex:Thing , ex:Other ; ex:size 1 , 2 .
ex:b a ex:Thing ; ex:name "b" ; ex:size "big" .
ex:w a ex:Whole ; ex:part ex:p , ex:b .
ex:p a ex:Thing , ex:Other .
"""


def test_lifted_property_shapes_give_pyshacl_s_results():
    """Property shapes of targeted node shapes carry the targets themselves; node shapes that other shapes
    use, deactivated ones and those with sibling-dependent property shapes keep theirs; same results."""
    from vetgraph.validation.partitioned import lift_property_shapes

    shapes = Graph().parse(data=LIFT_SHAPES, format="turtle")
    data = Graph().parse(data=LIFT_DATA, format="turtle")
    ex = "http://example.org/"
    lifted = lift_property_shapes(shapes)
    assert (URIRef(ex + "Named"), SH.targetClass, URIRef(ex + "Thing")) in lifted
    assert (URIRef(ex + "Named"), SH.targetClass, URIRef(ex + "Other")) in lifted
    assert not list(lifted.objects(URIRef(ex + "ThingShape"), SH.property))
    for kept in ("PartShape", "OffShape", "PickShape"):
        node = URIRef(ex + kept)
        assert set(lifted.objects(node, SH.property)) == set(shapes.objects(node, SH.property))
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, **OPTIONS)
    lifted_conforms, lifted_report, _ = pyshacl.validate(data, shacl_graph=lifted, **OPTIONS)
    assert not conforms
    assert (lifted_conforms, result_keys(lifted_report)) == (conforms, result_keys(report))
    # ex:a and ex:p lack a name as a Thing and as an Other: pySHACL reports each twice, the lifted shapes once.
    assert len(list(report.objects(None, SH.result))) == len(list(lifted_report.objects(None, SH.result))) + 2


def test_reading_rdflib_s_own_indexes_gives_the_same_partitions(loaded, monkeypatch):
    """The fast path (rdflib's Memory-store dictionaries) and the ordinary one (triple by triple) agree."""
    from vetgraph.validation import closure as closure_module
    from vetgraph.validation.rdflib_compat import memory_indexes

    dataset = synth.generate(3)
    dataset.graph(URIRef(UNCONFIRMED_GRAPH)).add((URIRef(ID + "2/insight/2"), RDFS.seeAlso, URIRef(ID + "2/report")))
    assert memory_indexes(dataset) is not None
    assert memory_indexes(dataset.graph(URIRef(UNCONFIRMED_GRAPH))) is None  # shares a store

    def closures() -> list[set]:
        planned = plan(dataset, loaded.shapes, loaded.ontology, partitions=6)
        index = closure_module.index_for(dataset, loaded.ontology, planned)
        return [closure_module.closure_triples(index, planned, i) for i in range(len(planned.partitions))]

    fast = closures()
    monkeypatch.setattr(closure_module, "memory_indexes", lambda graph: None)
    assert closures() == fast


def test_small_data_get_one_plain_pyshacl_run_with_the_same_report(loaded, caplog):
    """Below PLAIN_BELOW statements (the real data) there is no planning, no pool: one pySHACL run on the lifted
    shapes, whose report is the partitioned one, result for result."""
    from rdflib.compare import isomorphic

    from vetgraph.validation.planner import PLAIN_BELOW

    assert len(loaded.dataset) < PLAIN_BELOW
    caplog.set_level(logging.INFO, logger="vetgraph.validation.partitioned")
    plain = validate_partitioned(loaded.dataset, loaded.shapes, loaded.ontology, jobs=2, **OPTIONS)
    assert "validating the whole graph at once" in caplog.text and "planned" not in caplog.text
    caplog.clear()
    partitioned = validate_partitioned(loaded.dataset, loaded.shapes, loaded.ontology, jobs=2, plain_below=0, **OPTIONS)
    assert "planned" in caplog.text and "whole graph" not in caplog.text
    assert plain[0] == partitioned[0]
    assert isomorphic(plain[1], partitioned[1])


def test_both_sides_of_the_threshold_give_the_same_report_with_violations(loaded, caplog):
    data = with_faults(synth.generate_union(2))
    caplog.set_level(logging.INFO, logger="vetgraph.validation.partitioned")
    above = validate_partitioned(data, loaded.shapes, loaded.ontology, jobs=2, plain_below=len(data), **OPTIONS)
    assert "planned" in caplog.text
    caplog.clear()
    below = validate_partitioned(data, loaded.shapes, loaded.ontology, jobs=2, plain_below=len(data) + 1, **OPTIONS)
    assert "whole graph at once" in caplog.text
    assert not below[0] and below[0] == above[0]
    assert result_keys(below[1]) == result_keys(above[1]) == full_run(data, loaded)[1]
    assert len(set(below[1].objects(None, SH.result))) == len(set(above[1].objects(None, SH.result)))


def test_the_sparql_patch_steps_aside_for_a_signature_it_was_not_verified_on(loaded, monkeypatch):
    """rdflib_compat.prepared_queries patches rdflib's SPARQLProcessor.query only when it has the signature
    it was verified on; otherwise rdflib is left alone, and the report is the same."""
    from rdflib.plugins.sparql import processor

    from vetgraph.validation import rdflib_compat

    original = processor.SPARQLProcessor.query
    with rdflib_compat.prepared_queries() as active:
        assert active and processor.SPARQLProcessor.query is not original
    assert processor.SPARQLProcessor.query is original

    def changed(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False, extra=None):  # noqa: N803
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    data = with_faults(synth.generate_union(2))
    patched = validate_partitioned(data, loaded.shapes, loaded.ontology, jobs=1, **OPTIONS)
    monkeypatch.setattr(processor.SPARQLProcessor, "query", changed)
    with rdflib_compat.prepared_queries() as active:
        assert not active and processor.SPARQLProcessor.query is changed
    unpatched = validate_partitioned(data, loaded.shapes, loaded.ontology, jobs=1, **OPTIONS)
    assert (unpatched[0], result_keys(unpatched[1])) == (patched[0], result_keys(patched[1]))
    assert not unpatched[0]


def test_node_shapes_with_custom_targets_keep_their_property_shapes():
    """A SHACL-AF custom target (sh:target) would not travel with a lifted property shape, so a node shape that
    has one keeps its property shapes, and pySHACL reports the custom target's focus node."""
    from vetgraph.validation.planner import lift_property_shapes

    shapes = Graph().parse(data=LIFT_SHAPES + """
ex:CustomShape a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:target [ a sh:SPARQLTarget ; sh:select "SELECT ?this WHERE { ?this <http://example.org/part> ?x }" ] ;
    sh:property [ sh:path ex:label ; sh:minCount 1 ] .
""", format="turtle")
    data = Graph().parse(data=LIFT_DATA, format="turtle")
    custom = URIRef("http://example.org/CustomShape")
    lifted = lift_property_shapes(shapes)
    assert set(lifted.objects(custom, SH.property)) == set(shapes.objects(custom, SH.property))
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, **OPTIONS)
    lifted_conforms, lifted_report, _ = pyshacl.validate(data, shacl_graph=lifted, **OPTIONS)
    assert URIRef("http://example.org/w") in {key[0] for key in result_keys(report)}  # only the custom target
    assert (lifted_conforms, result_keys(lifted_report)) == (conforms, result_keys(report))


def _signal_dispositions(index: int) -> tuple[int, object, object]:
    """Run in a pool worker instead of a partition's validation: what SIGTERM and SIGINT do there."""
    import signal

    return index, signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)


def test_pool_workers_take_sigterm_as_the_os_does_whatever_handler_the_command_set(monkeypatch):
    """Regression: `build` turns SIGTERM into Ctrl-C with a Python handler, which the forked validation workers
    inherited; the pool stops its workers with SIGTERM when its with-block ends, and a worker blocked on the
    pool's queue lock did not die, so `build --jobs 2` hung for ever in the pool's join (seen once in a full
    run). The workers must have the default SIGTERM disposition and ignore SIGINT."""
    import signal
    from types import SimpleNamespace

    from vetgraph.validation import pool

    monkeypatch.setattr(pool, "_validate_part", _signal_dispositions)  # the forked workers inherit the patched module
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        parts = pool.validate_parts(Graph(), SimpleNamespace(partitions=[0, 1, 2, 3]), None, {}, None, jobs=2)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert [part[0] for part in parts] == [0, 1, 2, 3]
    assert {part[1:] for part in parts} == {(signal.SIG_DFL, signal.SIG_IGN)}
