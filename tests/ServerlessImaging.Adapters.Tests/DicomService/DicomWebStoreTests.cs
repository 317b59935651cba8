using ServerlessImaging.Adapters.DicomService;
using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Web;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.DicomService;

[Collection(LocalStackFixture.CollectionName)]
public sealed class DicomWebStoreTests(LocalStackFixture stack)
{
    [Fact]
    public async Task Store_is_idempotent_inventory_lists_the_instances_and_delete_through_orthanc_rest_is_idempotent()
    {
        using var client = DicomWebClient.Create(new DicomWebClientOptions { BaseAddress = stack.Endpoints.DicomService.DicomWebBaseUrl });
        var store = new DicomWebStore(client, "https://viewer.example.org/study/{StudyInstanceUID}", stack.Endpoints.DicomService.HttpUrl);
        var studyUid = UniqueNames.DicomUid();
        var instances = new[] { TinyInstance(studyUid), TinyInstance(studyUid) };
        var openers = instances.Select(bytes => (Func<CancellationToken, Task<Stream>>)(_ => Task.FromResult<Stream>(new MemoryStream(bytes.Bytes)))).ToList();

        Assert.Empty(await store.InstancesOfStudyAsync(studyUid, CancellationToken.None));
        var first = await store.StoreAsync(studyUid, openers, CancellationToken.None);
        Assert.Equal(0, first.Failed);
        Assert.Equal(2, first.Stored + first.AlreadyPresent);
        var again = await store.StoreAsync(studyUid, openers, CancellationToken.None);
        Assert.Equal(0, again.Failed);

        // STOW-RS goes to the study: the service refuses an instance of another study sent there.
        var stray = TinyInstance(UniqueNames.DicomUid());
        var refused = await store.StoreAsync(studyUid, [_ => Task.FromResult<Stream>(new MemoryStream(stray.Bytes))], CancellationToken.None);
        Assert.Equal((0, 1), (refused.Stored, refused.Failed));

        var present = await store.InstancesOfStudyAsync(studyUid, CancellationToken.None);
        Assert.Equal(instances.Select(i => i.SopInstanceUid).Order(StringComparer.Ordinal), present.Order(StringComparer.Ordinal));
        Assert.Equal(new Uri("https://viewer.example.org/study/" + studyUid), store.ViewerLinkFor(studyUid));

        await store.DeleteStudyAsync(studyUid, CancellationToken.None);
        Assert.Empty(await store.InstancesOfStudyAsync(studyUid, CancellationToken.None));
        await store.DeleteStudyAsync(studyUid, CancellationToken.None);
    }

    [Fact]
    public async Task Without_a_rest_fallback_orthancs_missing_delete_surfaces_as_a_typed_error()
    {
        using var client = DicomWebClient.Create(new DicomWebClientOptions { BaseAddress = stack.Endpoints.DicomService.DicomWebBaseUrl });
        var store = new DicomWebStore(client, "https://viewer.example.org/study/{StudyInstanceUID}");
        var error = await Assert.ThrowsAsync<ServerlessImaging.Dicom.Web.Http.DicomWebException>(() => store.DeleteStudyAsync(UniqueNames.DicomUid(), CancellationToken.None));
        Assert.Equal(System.Net.HttpStatusCode.MethodNotAllowed, error.StatusCode);
    }

    private static (byte[] Bytes, string SopInstanceUid) TinyInstance(string studyUid)
    {
        var sop = UniqueNames.DicomUid();
        var ds = new DicomDataset();
        ds.AddOrUpdate(DicomTag.SOPClassUID, "1.2.840.10008.5.1.4.1.1.7");
        ds.AddOrUpdate(DicomTag.SOPInstanceUID, sop);
        ds.AddOrUpdate(DicomTag.StudyInstanceUID, studyUid);
        ds.AddOrUpdate(DicomTag.SeriesInstanceUID, studyUid + ".1");
        ds.AddOrUpdate(DicomTag.PatientName, "ADAPTER^TEST");
        ds.AddOrUpdate(DicomTag.PatientID, "ADAPTER-TEST");
        ds.AddOrUpdate(DicomTag.Modality, "OT");
        var buffer = new MemoryStream();
        new DicomFile(ds).SaveAsync(buffer).GetAwaiter().GetResult();
        return (buffer.ToArray(), sop);
    }
}
