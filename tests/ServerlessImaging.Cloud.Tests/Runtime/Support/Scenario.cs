using System.Collections.Immutable;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ServerlessImaging.Contracts;
using ServerlessImaging.Dicom.Web;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;
using ServerlessImaging.Adapters.DicomService;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime.Support;

/// <summary>Domain values and polling helpers shared by the runtime tests.</summary>
internal static class Scenario
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static Meeting Meeting(string id) => new(
        id, "RCP thoracique", new DateTimeOffset(2030, 5, 14, 14, 0, 0, TimeSpan.FromHours(2)), "CHU Nord", 20, ImagingFilter.Everything,
        null, null, AutoSelectPolicy.Manual, 30);

    public static Registration Registration(string id, string meetingId, PatientIdentity patient) => new(
        id, meetingId, patient, new Consent(true, true, true, true), new Requester("u-1", "Dr Demandeur", null), null, false);

    public static string NewRegistrationId() => "reg-" + Guid.NewGuid().ToString("N");

    /// <summary>Polls the instance status until <paramref name="condition"/> holds; fails with the last status otherwise.</summary>
    public static async Task<RegistrationInstanceStatus> WaitForAsync(IRegistrationOrchestrationClient client, string registrationId, Func<RegistrationInstanceStatus, bool> condition, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? Deadline);
        RegistrationInstanceStatus? last = null;
        while (DateTime.UtcNow < until)
        {
            last = await client.GetStatusAsync(registrationId, CancellationToken.None);
            if (last is not null && condition(last))
            {
                return last;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"Condition not met within the deadline; last status {last?.Status}, sites [{string.Join(", ", last?.State.Sites.Select(s => s.Status) ?? [])}], studies [{string.Join(", ", last?.State.Selected.Select(s => s.Status + "/" + s.Failure?.Code) ?? [])}].");
        return last!;
    }

    /// <summary>Polls any condition.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? Deadline);
        while (DateTime.UtcNow < until)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail("Not within the deadline: " + what);
    }

    /// <summary>SOP Instance UIDs the DICOM service holds for a study (QIDO-RS).</summary>
    public static async Task<string[]> StoredInstancesAsync(StackEndpoints endpoints, string studyUid)
    {
        using var client = DicomWebClient.Create(new DicomWebClientOptions { BaseAddress = endpoints.DicomService.DicomWebBaseUrl });
        var store = new DicomWebStore(client, "x:{StudyInstanceUID}");
        return [.. (await store.InstancesOfStudyAsync(studyUid, CancellationToken.None)).Order(StringComparer.Ordinal)];
    }

    /// <summary>Blob names left in any site's staging under a registration.</summary>
    public static async Task<List<string>> StagedBlobsAsync(StackEndpoints endpoints, string registrationId)
    {
        var blobs = new BlobServiceClient(endpoints.Storage.ConnectionString);
        var names = new List<string>();
        await foreach (var container in blobs.GetBlobContainersAsync(prefix: ResourceNames.StagingContainerPrefix))
        {
            await foreach (var blob in blobs.GetBlobContainerClient(container.Name).GetBlobsAsync(new GetBlobsOptions { Prefix = registrationId + "/" }))
            {
                names.Add(blob.Name);
            }
        }

        return names;
    }
}
