"""The studies page is written from measured results: ratios against DCGAN and the SGAN accuracies."""

from training.studies import ABLATION, SGAN, write_studies_doc


def test_studies_doc_reports_ratios_accuracies_and_grids(tmp_path):
    results = {v: {"fid": 100.0 + 10 * i, "fid_floor": 5.0, "minutes": 2.0} for i, v in enumerate([*ABLATION, *SGAN])}
    results["sgan"]["sgan_test_accuracy"] = 0.8
    results["sgan-all-labels"]["sgan_test_accuracy"] = 0.975
    results["sgan-feature-matching"]["sgan_test_accuracy"] = 0.85
    out = tmp_path / "STUDIES.md"
    write_studies_doc(results, out, samples=1000)
    text = out.read_text()
    assert "| dcgan | 100.00 | 1.00× | 2.0 min |" in text
    assert "| dcgan-vbn | 150.00 | 1.50× | 2.0 min |" in text
    assert "| non-saturating (Odena 2016) | 100 (10 per class) | 80.00% | 160.00 |" in text
    assert "| non-saturating (Odena 2016) | all 60,000 | 97.50% | 170.00 |" in text
    assert "| feature matching (Salimans 2016) | 100 (10 per class) | 85.00% | 180.00 |" in text
    assert all(f"(studies/{v}.png)" in text for v in results)
