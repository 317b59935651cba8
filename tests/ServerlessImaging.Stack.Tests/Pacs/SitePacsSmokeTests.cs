using ServerlessImaging.Testing.Dcmtk;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Stack.Tests.Pacs;

[Collection(LocalStackFixture.CollectionName)]
public sealed class SitePacsSmokeTests(LocalStackFixture stack) : IDisposable
{
    private readonly string workDirectory = Directory.CreateTempSubdirectory("si-pacs-smoke-").FullName;

    public static TheoryData<string> Sites => ["chu-nord", "clinique-sud", "ch-est"];

    [Theory]
    [MemberData(nameof(Sites))]
    public async Task Site_pacs_answers_c_echo(string site)
    {
        var ct = TestDeadline.Start();

        // Throws (with dcmtk's error lines) if the association is refused or the echo fails.
        await DcmtkScu.EchoAsync(Association(site, "SI_TEST"), ct);
    }

    [Theory]
    [MemberData(nameof(Sites))]
    public async Task Stored_study_is_found_by_a_study_level_c_find(string site)
    {
        var ct = TestDeadline.Start();
        var family = "SMOKE" + UniqueNames.PatientSuffix();
        var file = await ReidentifiedCtAsync(family, ct);

        await DcmtkScu.StoreAsync(Association(site, "STORESCU"), [file.Path], ct);
        var studies = await DcmtkScu.FindAsync(
            Association(site, "SI_RELAY_NORD"), "STUDY",
            [$"PatientName={family}*", "StudyInstanceUID", "PatientID", "ModalitiesInStudy"], ct);

        var study = Assert.Single(studies);
        Assert.Equal(file.StudyInstanceUid, study["StudyInstanceUID"]);
        Assert.Equal($"{family}^TEST", study["PatientName"]);
    }

    [Theory]
    [MemberData(nameof(Sites))]
    public async Task C_find_from_an_unlisted_ae_title_is_refused_and_reported(string site)
    {
        var ct = TestDeadline.Start();

        // findscu exits 0 on a refusal; the helper must still report it.
        var refusal = await Assert.ThrowsAsync<DcmtkFailedException>(() =>
            DcmtkScu.FindAsync(Association(site, "NOT_LISTED"), "STUDY", ["StudyInstanceUID"], ct));

        Assert.NotEmpty(refusal.Result!.ErrorLines);
    }

    public void Dispose() => Directory.Delete(workDirectory, recursive: true);

    private DicomAssociation Association(string site, string callingAe)
    {
        var pacs = stack.Endpoints.Site(site);
        return new DicomAssociation(pacs.Host, pacs.DicomPort, pacs.AeTitle, callingAe);
    }

    private Task<ReidentifiedFile> ReidentifiedCtAsync(string family, CancellationToken ct) =>
        DicomTestFiles.CopyWithNewIdentityAsync(
            Path.Combine(DicomTestFiles.CorpusDirectory(stack.RepositoryRootPath), "CT_small.dcm"),
            workDirectory, $"{family}^TEST", "ID" + UniqueNames.PatientSuffix(6), ct);
}
