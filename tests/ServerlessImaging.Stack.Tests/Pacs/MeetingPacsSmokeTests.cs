using ServerlessImaging.Testing.Dcmtk;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Stack.Tests.Pacs;

/// <summary>The meeting site's PACS (delivery destination, issue 17): listed in stack.json, takes C-STORE from the relay's AE, answers image-level C-FIND.</summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class MeetingPacsSmokeTests(LocalStackFixture stack) : IDisposable
{
    private readonly string workDirectory = Directory.CreateTempSubdirectory("si-meeting-pacs-smoke-").FullName;

    [Fact]
    public void Stack_json_names_the_meeting_pacs_behind_an_existing_relay_site()
    {
        var pacs = stack.Endpoints.RequireMeetingPacs();

        Assert.Equal("RCPPACS", pacs.AeTitle);
        Assert.Equal(PacsKind.Orthanc, pacs.Kind);
        Assert.Contains(stack.Endpoints.SitePacs, s => s.Site == pacs.Site);
        Assert.DoesNotContain(stack.Endpoints.SitePacs, s => s.DicomPort == pacs.DicomPort);
    }

    [Fact]
    public async Task An_instance_stored_by_the_relay_ae_is_found_at_image_level()
    {
        var ct = TestDeadline.Start();
        var pacs = stack.Endpoints.RequireMeetingPacs();
        var family = "MEET" + UniqueNames.PatientSuffix();
        var file = await DicomTestFiles.CopyWithNewIdentityAsync(
            Path.Combine(DicomTestFiles.CorpusDirectory(stack.RepositoryRootPath), "CT_small.dcm"),
            workDirectory, $"{family}^TEST", "ID" + UniqueNames.PatientSuffix(6), ct);

        await DcmtkScu.EchoAsync(new DicomAssociation(pacs.Host, pacs.DicomPort, pacs.AeTitle, "SI_RELAY_NORD"), ct);
        await DcmtkScu.StoreAsync(new DicomAssociation(pacs.Host, pacs.DicomPort, pacs.AeTitle, "SI_RELAY_NORD"), [file.Path], ct);
        var images = await DcmtkScu.FindAsync(
            new DicomAssociation(pacs.Host, pacs.DicomPort, pacs.AeTitle, "SI_RELAY_NORD"), "IMAGE",
            [$"StudyInstanceUID={file.StudyInstanceUid}", "SOPInstanceUID"], ct);

        Assert.Equal(file.SopInstanceUid, Assert.Single(images)["SOPInstanceUID"]);
    }

    public void Dispose() => Directory.Delete(workDirectory, recursive: true);
}
