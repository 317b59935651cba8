#!/usr/bin/env python3
"""The closing summary of tools/test, from the TRX files `dotnet test --logger trx` wrote.

usage: tools/test-summary.py RESULTS_DIR REPO_ROOT

Prints one line per problem ("<project>: ..."), then, as the last line, "N passed, N failed, N skipped".
Exit status 0 only when every test project under REPO_ROOT/tests wrote exactly one TRX, every run completed
normally, and no test failed; 1 otherwise.

Why more than summing counters: a test host that crashes, or a run cut short, leaves no TRX or a TRX with no
results, and the counters of the others then add up to a clean-looking line. Each problem also counts as one
failure in the last line, so that line never reads "0 failed" after an incomplete run.
"""

import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"

# UnitTestResult outcomes counted as failed / skipped (everything else that is not Passed is a failure too).
SKIPPED_OUTCOMES = {"NotExecuted", "Inconclusive", "NotRunnable", "Pending"}

# What the test platform writes into a RunInfo when it gives up on a run (crash, session timeout, cancel).
ABORT_TEXT = re.compile(r"test run was aborted|aborting test run|test host process crashed|test run (was )?canceled", re.IGNORECASE)

# xUnit's own progress lines, present in the TRX's StdOut even when the host died before any result was recorded.
XUNIT_ASSEMBLY = re.compile(r"^\[xUnit\.net [^\]]*\]\s+(?:Discovering|Discovered|Starting|Finished):\s+(\S+)", re.MULTILINE)


def test_projects(repo_root):
    """Assembly name -> project name of every test project: each tests/*/*.csproj not marked IsTestProject=false."""
    projects = {}
    for csproj in sorted(glob.glob(os.path.join(repo_root, "tests", "*", "*.csproj"))):
        with open(csproj, encoding="utf-8-sig") as f:
            text = f.read()
        if re.search(r"<IsTestProject>\s*false\s*</IsTestProject>", text, re.IGNORECASE):
            continue  # a support library (ServerlessImaging.Testing)
        name = os.path.splitext(os.path.basename(csproj))[0]
        assembly = re.search(r"<AssemblyName>\s*([^<\s]+)\s*</AssemblyName>", text)
        projects[(assembly.group(1) if assembly else name).lower()] = name
    return projects


def first_line(text, limit=200):
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def assembly_of(root):
    """The test assembly a TRX belongs to, from its content: test definitions, else xUnit's progress output."""
    for method in root.iter(NS + "TestMethod"):
        code_base = method.get("codeBase")
        if code_base:
            return os.path.splitext(os.path.basename(code_base.replace("\\", "/")))[0]
    for test in root.iter(NS + "UnitTest"):
        storage = test.get("storage")
        if storage:
            return os.path.splitext(os.path.basename(storage.replace("\\", "/")))[0]
    stdout = " ".join(e.text or "" for e in root.iter(NS + "StdOut"))
    found = XUNIT_ASSEMBLY.search(stdout)
    return found.group(1) if found else None


def summarise(results_dir, repo_root):
    """(problem lines, passed, failed, skipped)."""
    projects = test_projects(repo_root)
    seen = {}
    problems = []
    passed = failed = skipped = 0

    for path in sorted(glob.glob(os.path.join(results_dir, "**", "*.trx"), recursive=True)):
        label = os.path.relpath(path, results_dir)
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as e:
            problems.append(f"{label}: unreadable result file ({e}); its run did not finish writing it")
            continue

        assembly = assembly_of(root)
        project = projects.get((assembly or "").lower(), assembly)
        who = project or label
        if project:
            seen.setdefault(project, []).append(label)

        for result in root.iter(NS + "UnitTestResult"):
            outcome = result.get("outcome", "")
            if outcome == "Passed":
                passed += 1
            elif outcome in SKIPPED_OUTCOMES:
                skipped += 1
            else:
                failed += 1

        summary = root.find(NS + "ResultSummary")
        if summary is None:
            problems.append(f"{who}: no result summary (the run did not finish writing its result file)")
            continue
        outcome = summary.get("outcome", "")
        counters = summary.find(NS + "Counters")
        counted_failures = sum(int(counters.get(k, 0)) for k in ("failed", "error", "timeout", "aborted")) if counters is not None else 0
        total = int(counters.get("total", 0)) if counters is not None else 0
        aborts = [r.findtext(NS + "Text") or "" for r in summary.iter(NS + "RunInfo") if ABORT_TEXT.search(r.findtext(NS + "Text") or "")]

        if aborts:
            problems.append(f"{who}: run aborted ({first_line(aborts[0])})")
        elif outcome == "Completed":
            if total == 0:
                problems.append(f"{who}: run completed without running any test")
        elif outcome == "Failed":
            # A normal run with failing tests says Failed too; without a failed test it is a run that broke off.
            if counted_failures == 0:
                problems.append(f"{who}: run Failed without any failed test (test host crashed or the run was cut)")
        else:
            problems.append(f"{who}: run {outcome or 'without outcome'} (not a normal completion)")

        if not assembly:
            problems.append(f"{label}: result file names no test assembly (the test host died before running anything)")

    for project in sorted(set(projects.values())):
        files = seen.get(project, [])
        if not files:
            problems.append(f"{project}: no result file (test host crashed or the run was cut)")
        elif len(files) > 1:
            problems.append(f"{project}: {len(files)} result files, expected one ({', '.join(files)})")

    return problems, passed, failed, skipped


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    problems, passed, failed, skipped = summarise(argv[1], argv[2])
    for line in problems:
        print(line)
    print(f"{passed} passed, {failed + len(problems)} failed, {skipped} skipped")
    return 0 if failed == 0 and not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
