"""The test-host image is rebuilt exactly when its recipe changes: its tag is the recipe's hash."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ("build-image.sh", "image-setup.sh")


def tag_of(directory: Path) -> str:
    proc = subprocess.run(
        ["bash", str(directory / "build-image.sh"), "--print-tag"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return proc.stdout.strip()


def test_tag_names_the_image_and_follows_the_recipe(tmp_path):
    for name in RECIPE:
        shutil.copy(ROOT / "tests" / "hosts" / name, tmp_path / name)
    before = tag_of(tmp_path)
    assert before.startswith("localhost/sigma-deploy-host:")
    assert tag_of(tmp_path) == before, "same recipe, same tag"
    assert before == tag_of(ROOT / "tests" / "hosts")
    with (tmp_path / "image-setup.sh").open("a") as setup:
        setup.write("echo one more step\n")
    assert tag_of(tmp_path) != before, "a changed recipe must give a new tag"
