using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ServerlessImaging.Testing.Dcmtk;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Stack.Tests.DicomService;

[Collection(LocalStackFixture.CollectionName)]
public sealed class DicomServiceSmokeTests(LocalStackFixture stack) : IDisposable
{
    private const string StudyInstanceUidTag = "0020000D";
    private readonly string workDirectory = Directory.CreateTempSubdirectory("si-dicomweb-smoke-").FullName;
    private readonly HttpClient http = new() { BaseAddress = stack.Endpoints.DicomService.DicomWebBaseUrl };

    [Fact]
    public async Task Study_stored_with_c_store_is_listed_by_qido_rs()
    {
        var ct = TestDeadline.Start();
        var file = await ReidentifiedAsync("MR_small.dcm", ct);
        var service = stack.Endpoints.DicomService;

        await DcmtkScu.StoreAsync(new DicomAssociation(service.Host, service.DicomPort, service.AeTitle, "SI_TEST"), [file.Path], ct);

        Assert.Contains(file.StudyInstanceUid, await QidoStudyUidsAsync(file.StudyInstanceUid, ct));
    }

    [Fact]
    public async Task Study_stored_with_stow_rs_is_listed_by_qido_rs()
    {
        var ct = TestDeadline.Start();
        var file = await ReidentifiedAsync("CT_small.dcm", ct);
        using var body = new MultipartContent("related", "si-" + Guid.NewGuid().ToString("n"));
        body.Headers.ContentType!.Parameters.Add(new NameValueHeaderValue("type", "\"application/dicom\""));
        var part = new ByteArrayContent(await File.ReadAllBytesAsync(file.Path, ct));
        part.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        body.Add(part);

        using var response = await http.PostAsync(new Uri("studies", UriKind.Relative), body, ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(file.StudyInstanceUid, await QidoStudyUidsAsync(file.StudyInstanceUid, ct));
    }

    public void Dispose()
    {
        http.Dispose();
        Directory.Delete(workDirectory, recursive: true);
    }

    private async Task<List<string>> QidoStudyUidsAsync(string studyUid, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"studies?StudyInstanceUID={studyUid}", UriKind.Relative));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/dicom+json"));
        using var response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), cancellationToken: ct);
        return json.RootElement.EnumerateArray()
            .Select(study => study.GetProperty(StudyInstanceUidTag).GetProperty("Value")[0].GetString()!)
            .ToList();
    }

    private Task<ReidentifiedFile> ReidentifiedAsync(string corpusFile, CancellationToken ct) =>
        DicomTestFiles.CopyWithNewIdentityAsync(
            Path.Combine(DicomTestFiles.CorpusDirectory(stack.RepositoryRootPath), corpusFile),
            workDirectory, $"WEB{UniqueNames.PatientSuffix()}^TEST", "ID" + UniqueNames.PatientSuffix(6), ct);
}
