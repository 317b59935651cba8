using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace ServerlessImaging.Dicom.Web.Tests.Service;

/// <summary>
/// The local DICOM service (Orthanc + DICOMweb plugin) from the project stack: started with
/// <c>tools/stack up</c> if it is not answering, endpoints read from <c>.local/stack/stack.json</c>.
/// Also the Orthanc REST helper the tests delete through, since Orthanc's DICOMweb has no DELETE.
/// </summary>
public sealed class DicomServiceFixture : IAsyncLifetime
{
    public Uri DicomWebBase { get; private set; } = new("http://127.0.0.1:8144/dicom-web/");
    public Uri OrthancRest { get; private set; } = new("http://127.0.0.1:8144/");
    public HttpClient Rest { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        var root = RepositoryRoot();
        if (!await AnsweringAsync())
        {
            var start = Process.Start(new ProcessStartInfo(Path.Combine(root, "tools", "stack"), "up") { UseShellExecute = false })!;
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await start.WaitForExitAsync(deadline.Token);
            Assert.True(start.ExitCode == 0, "tools/stack up failed");
        }
        var stackJson = Path.Combine(root, ".local", "stack", "stack.json");
        if (File.Exists(stackJson))
        {
            using var doc = JsonDocument.Parse(await File.ReadAllBytesAsync(stackJson));
            var service = doc.RootElement.GetProperty("dicomService");
            DicomWebBase = new Uri(service.GetProperty("dicomWebBaseUrl").GetString()!);
            OrthancRest = new Uri(service.GetProperty("httpUrl").GetString()!);
        }
        var until = DateTime.UtcNow.AddSeconds(60);
        while (!await AnsweringAsync())
        {
            Assert.True(DateTime.UtcNow < until, "The local DICOM service did not answer within 60 s.");
            await Task.Delay(250);
        }
    }

    public Task DisposeAsync()
    {
        Rest.Dispose();
        return Task.CompletedTask;
    }

    public DicomWebClient CreateClient() => DicomWebClient.Create(new DicomWebClientOptions { BaseAddress = DicomWebBase });

    /// <summary>Deletes a study through Orthanc's REST API (<c>/tools/lookup</c>, then <c>DELETE /studies/{id}</c>).</summary>
    public async Task DeleteStudyThroughOrthancAsync(string studyInstanceUid)
    {
        using var lookup = await Rest.PostAsync(new Uri(OrthancRest, "tools/lookup"), new StringContent(studyInstanceUid));
        lookup.EnsureSuccessStatusCode();
        var matches = await lookup.Content.ReadFromJsonAsync<JsonElement>();
        foreach (var match in matches.EnumerateArray().Where(m => m.GetProperty("Type").GetString() == "Study"))
        {
            using var delete = await Rest.DeleteAsync(new Uri(OrthancRest, "studies/" + match.GetProperty("ID").GetString()));
            delete.EnsureSuccessStatusCode();
        }
    }

    private async Task<bool> AnsweringAsync()
    {
        try
        {
            using var response = await Rest.GetAsync(new Uri(OrthancRest, "system"));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ServerlessImaging.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Repository root (ServerlessImaging.sln) not found above the test binaries.");
    }
}

[CollectionDefinition(Name)]
public sealed class DicomServiceTestGroup : ICollectionFixture<DicomServiceFixture>
{
    public const string Name = "DICOM service";
}
