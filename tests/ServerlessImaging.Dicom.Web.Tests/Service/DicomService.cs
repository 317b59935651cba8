using System.Net.Http.Json;
using System.Text.Json;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Dicom.Web.Tests.Service;

/// <summary>
/// The local DICOM service (Orthanc + DICOMweb plugin) of the shared stack (<see cref="LocalStackFixture"/> brings it up
/// and reads <c>.local/stack/stack.json</c>), plus the Orthanc REST helper the tests delete through, since Orthanc's
/// DICOMweb has no DELETE.
/// </summary>
public sealed class DicomService : IDisposable
{
    public DicomService(StackEndpoints endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        DicomWebBase = endpoints.DicomService.DicomWebBaseUrl;
        OrthancRest = endpoints.DicomService.HttpUrl;
    }

    public Uri DicomWebBase { get; }
    public Uri OrthancRest { get; }
    public HttpClient Rest { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose() => Rest.Dispose();

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
}

/// <summary>The one-line collection definition the shared stack fixture needs in each test assembly.</summary>
[CollectionDefinition(LocalStackFixture.CollectionName)]
public sealed class LocalStackDefinition : ICollectionFixture<LocalStackFixture>;
