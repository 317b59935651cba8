using System.Text.Json;
using ServerlessImaging.EndToEndBench.Api;
using ServerlessImaging.EndToEndBench.Memory;

namespace ServerlessImaging.EndToEndBench.Tests;

public class RegistrationProgressTests
{
    private static readonly string[] Sites = ["nord", "sud"];
    private static readonly string[] Wanted = ["1.2.3", "1.2.4"];

    [Fact]
    public void Candidates_count_only_once_every_site_answered_with_exactly_the_loaded_studies()
    {
        var searching = Read("Running", [("nord", "Searched"), ("sud", "Searching")], ["1.2.3"], []);
        Assert.False(searching.CandidatesComplete);
        Assert.Null(searching.Failure);

        var complete = Read("Retrieving", [("nord", "Searched"), ("sud", "Searched")], ["1.2.4", "1.2.3"], [("1.2.3", "Available"), ("1.2.4", "Retrieving")]);
        Assert.True(complete.CandidatesComplete);
        Assert.False(complete.AllRetrieved);
        Assert.False(complete.AllAvailable);

        var retrieved = Read("Retrieving", [("nord", "Searched"), ("sud", "Searched")], ["1.2.4", "1.2.3"], [("1.2.3", "Available"), ("1.2.4", "Storing")]);
        Assert.True(retrieved.AllRetrieved);
        Assert.False(retrieved.AllAvailable);

        var done = Read("Completed", [("nord", "Searched"), ("sud", "Searched")], ["1.2.3", "1.2.4"], [("1.2.3", "Available"), ("1.2.4", "Available")]);
        Assert.True(done.AllRetrieved);
        Assert.True(done.AllAvailable);
        Assert.Contains("2/2 available", done.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_site_a_failed_study_or_other_candidates_fail_the_registration()
    {
        Assert.Contains("sud Unreachable", Read("Running", [("nord", "Searched"), ("sud", "Unreachable")], [], []).Failure, StringComparison.Ordinal);
        Assert.Contains("1.2.4 Failed (PacsRejected)", Read("Retrieving", [("nord", "Searched"), ("sud", "Searched")], Wanted, [("1.2.3", "Available"), ("1.2.4", "Failed")]).Failure, StringComparison.Ordinal);
        Assert.Contains("candidates differ", Read("WaitingForSelection", [("nord", "Searched"), ("sud", "Searched")], ["1.2.3", "9.9.9", "1.2.4"], []).Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Proc_status_fields_are_read_in_bytes()
    {
        const string status = "Name:\tdotnet\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
        Assert.Equal(204800L * 1024, PeakMemory.ReadStatusField(status, "VmHWM:"));
        Assert.Equal(102400L * 1024, PeakMemory.ReadStatusField(status, "VmRSS:"));
        Assert.Null(PeakMemory.ReadStatusField(status, "VmSwap:"));
        Assert.True(PeakMemory.ReadStatusField(File.ReadAllText("/proc/self/status"), "VmRSS:") > 0);
    }

    private static RegistrationProgress Read(string status, (string Id, string Status)[] sites, string[] candidates, (string Uid, string Status)[] studies)
    {
        var body = JsonSerializer.Serialize(new
        {
            status,
            sites = sites.Select(s => new { siteId = s.Id, status = s.Status }),
            candidates = candidates.Select(c => new { studyInstanceUid = c }),
            studies = studies.Select(s => s.Status == "Failed"
                ? (object)new { studyInstanceUid = s.Uid, status = s.Status, failure = new { code = "PacsRejected", safeMessage = "n of m" } }
                : new { studyInstanceUid = s.Uid, status = s.Status }),
        });
        using var document = JsonDocument.Parse(body);
        return RegistrationProgress.Read(document.RootElement.Clone(), Sites, [.. Wanted.Order(StringComparer.Ordinal)]);
    }
}
