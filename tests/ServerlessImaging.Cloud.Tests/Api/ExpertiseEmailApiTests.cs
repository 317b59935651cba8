using Microsoft.DurableTask.Client;
using System.Collections.Immutable;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Cloud.Activities;
using ServerlessImaging.Cloud.Runtime;
using ServerlessImaging.Cloud.Security;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Testing.Dcmtk;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Api;

/// <summary>
/// The expertise request end to end: HTTP request, a real study staged in Azurite and stored into the DICOM
/// service (Orthanc), the runtime's SendExpertiseEmail through the SMTP sender to maildev — exactly one message
/// though the request is retried and the e-mail activity re-run as after a crash.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class ExpertiseEmailApiTests(LocalStackFixture stack) : IAsyncLifetime, IDisposable
{
    private readonly ApiSamples samples = new();
    private readonly HttpClient maildev = new() { BaseAddress = stack.Endpoints.Mail.WebUrl, Timeout = TimeSpan.FromSeconds(10) };
    private readonly string workDirectory = Path.Combine(Path.GetTempPath(), "si-api-" + Guid.NewGuid().ToString("N"));
    private ApiHost host = null!;

    public async Task InitializeAsync() => host = await ApiHost.StartAsync(stack);

    public async Task DisposeAsync() => await host.DisposeAsync();

    public void Dispose()
    {
        maildev.Dispose();
        if (Directory.Exists(workDirectory))
        {
            Directory.Delete(workDirectory, recursive: true);
        }
    }

    private async Task<List<JsonElement>> MailsAsync(string subjectPart)
    {
        var all = await maildev.GetFromJsonAsync<List<JsonElement>>("api/email");
        return [.. all!.Where(m => m.GetProperty("subject").GetString()!.Contains(subjectPart, StringComparison.Ordinal))];
    }

    [Fact]
    public async Task One_expertise_request_sends_exactly_one_email_despite_retries_and_a_rerun()
    {
        var title = "RCP thoracique " + UniqueNames.PatientSuffix(8);
        var meetingId = "m-" + UniqueNames.PatientSuffix(8).ToLowerInvariant();
        var (put, _) = await host.SendAsync(host.Request(HttpMethod.Put, $"/meetings/{meetingId}", ApiRoles.Coordinator, ApiSamples.Meeting(title)));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var (accepted, acceptedBody) = await host.SendAsync(host.Request(HttpMethod.Post, $"/meetings/{meetingId}/registrations", ApiRoles.Registrar, samples.Registration()));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var registrationId = acceptedBody.GetProperty("registrationId").GetString()!;

        // A real instance of the corpus, re-identified, becomes the study a site finds.
        var source = Directory.EnumerateFiles(DicomTestFiles.CorpusDirectory(stack.RepositoryRootPath), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First(f => new FileInfo(f).Length < 2_000_000 && IsPart10(f));
        var file = await DicomTestFiles.CopyWithNewIdentityAsync(source, workDirectory, $"{samples.UsageName}^{samples.FirstName}", "PID-EXP", CancellationToken.None, "SpecificCharacterSet=ISO_IR 192", "PatientBirthDate=19610402", "PatientSex=F");
        var site = host.SiteIds[0];
        var pacsPatient = new PacsPatient($"{samples.UsageName}^{samples.FirstName}", samples.BirthName, "PID-EXP", null, new DateOnly(1961, 4, 2), "F", []);
        await host.RaiseAndWaitAsync(registrationId, new StudiesFoundAtSite("evt-found", DateTimeOffset.UtcNow, site, CommandIds.Find(registrationId, site, 1, 1), [new FoundStudy(pacsPatient, file.StudyInstanceUid, new DateOnly(2029, 1, 5), "CT", ["CT"], 1, 1)]));
        await host.RaiseAndWaitAsync(registrationId, new StudiesFoundAtSite("evt-found-2", DateTimeOffset.UtcNow, host.SiteIds[1], CommandIds.Find(registrationId, host.SiteIds[1], 1, 1), []));

        // The clinician asks for expertise (retried with the same key) and selects the study.
        var key = Guid.NewGuid().ToString();
        for (var i = 0; i < 2; i++)
        {
            var (expertise, _) = await host.SendAsync(host.Request(HttpMethod.Post, $"/registrations/{registrationId}/expertise-request", ApiRoles.Registrar, idempotencyKey: key));
            Assert.Equal(HttpStatusCode.Accepted, expertise.StatusCode);
        }

        var (selected, _) = await host.SendAsync(host.Request(HttpMethod.Post, $"/registrations/{registrationId}/selection", ApiRoles.Registrar, new { studyInstanceUids = new[] { file.StudyInstanceUid } }));
        Assert.Equal(HttpStatusCode.Accepted, selected.StatusCode);

        // The relay's part: the instance lands in staging, the retrieval finishes.
        var prefix = CommandIds.StagingPrefix(registrationId, file.StudyInstanceUid);
        var bytes = await File.ReadAllBytesAsync(file.Path);
        var staging = new BlobServiceClient(stack.Endpoints.Storage.ConnectionString).GetBlobContainerClient(ResourceNames.StagingContainerFor(site));
        await staging.CreateIfNotExistsAsync();
        await staging.GetBlobClient(prefix + file.SopInstanceUid + ".dcm").UploadAsync(new BinaryData(bytes), overwrite: true);
        var manifest = new StagedInstance(file.SeriesInstanceUid, file.SopInstanceUid, file.SopInstanceUid + ".dcm", bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        var listed = await host.Services.GetRequiredService<IStagedInstanceListStore>().SaveAsync(registrationId, file.StudyInstanceUid, [manifest], CancellationToken.None);
        // The relay answers the study's transfer (a sub-orchestration the selection starts), once it asked.
        var transferId = CommandIds.StudyTransfer(registrationId, file.StudyInstanceUid, 1);
        var until = DateTime.UtcNow.AddSeconds(30);
        while (await host.Services.GetRequiredService<DurableTaskClient>().GetInstanceAsync(transferId) is null)
        {
            Assert.True(DateTime.UtcNow < until, "The study's transfer did not start within 30 s.");
            await Task.Delay(50);
        }

        await host.RaiseAndWaitAsync(registrationId, new RetrievalFinished("evt-retrieved", DateTimeOffset.UtcNow, site, CommandIds.Retrieve(CommandIds.StudyTransfer(registrationId, file.StudyInstanceUid, 1), 1), file.StudyInstanceUid, listed));

        // The store and the e-mail run as activities after the retrieval's step: wait for both to settle.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await host.Services.GetRequiredService<IRegistrationOrchestrationClient>().GetStatusAsync(registrationId, CancellationToken.None) is { } status
            && (status.State.Selected.Any(s => !s.IsSettled) || status.State.Expertise == ExpertiseStatus.Sending) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var (_, view) = await host.SendAsync(host.Request(HttpMethod.Get, $"/registrations/{registrationId}", ApiRoles.Registrar));
        var study = view.GetProperty("studies").EnumerateArray().Single();
        var (studyStatus, expertiseStatus) = (study.GetProperty("status").GetString(), view.GetProperty("expertise").GetString());
        var appProblems = string.Join(" | ", host.Logs.Lines.Where(l => l.StartsWith("Warn", StringComparison.Ordinal) || l.StartsWith("Error", StringComparison.Ordinal)));
        Assert.True((studyStatus, expertiseStatus) == ("Available", "Sent"), $"study {studyStatus}, expertise {expertiseStatus}; app warnings: {appProblems}");
        Assert.Equal($"https://viewer.example/study/{file.StudyInstanceUid}", study.GetProperty("viewerUrl").GetString());

        // Asked again after it was sent (a new request, no key): nothing more is sent.
        var (late, _) = await host.SendAsync(host.Request(HttpMethod.Post, $"/registrations/{registrationId}/expertise-request", ApiRoles.Registrar));
        Assert.Equal(HttpStatusCode.Accepted, late.StatusCode);

        // The e-mail activity re-run with the same command, as after a crash before the engine recorded its completion.
        var recipients = ImmutableArray.Create(new Physician("Radio Garde", "radio@example.org"), new Physician("Nucleaire Garde", "nucleaire@example.org"));
        var rerun = await host.Services.GetRequiredService<ExpertiseEmailActivityRunner>().RunAsync(
            new SendExpertiseEmailActivity(CommandIds.ExpertiseEmail(registrationId), registrationId, meetingId, title, new DateTimeOffset(2030, 5, 14, 14, 0, 0, TimeSpan.FromHours(2)), recipients, "Dr Demandeur", 1),
            CancellationToken.None);

        // Its outcome (already sent) reaches the orchestration again and is recognised: nothing more is recorded.
        Assert.IsType<ExpertiseEmailSent>(rerun);
        var current = await host.Services.GetRequiredService<IRegistrationOrchestrationClient>().GetStatusAsync(registrationId, CancellationToken.None);
        Assert.Equal(DispositionReason.DuplicateEvent, RegistrationOrchestrator.Apply(current!.State, rerun).Disposition.Reason);
        Assert.True(await host.Services.GetRequiredService<IRegistrationEventSink>().RaiseAsync(registrationId, rerun, CancellationToken.None));
        await host.RaiseAndWaitAsync(registrationId, new StudiesFoundAtSite("evt-after-rerun", DateTimeOffset.UtcNow, site, "not-a-command", [])); // applied after the rerun

        var mails = await MailsAsync(title);
        var mail = Assert.Single(mails);
        var text = mail.GetProperty("text").GetString()!;
        Assert.Contains($"Le dossier de Mme {samples.UsageName} {samples.FirstName}, a été inscrit par Dr Demandeur (médecin demandeur)", text, StringComparison.Ordinal);
        Assert.Contains($"{title}, le 14/05/2030", text, StringComparison.Ordinal);
        Assert.Contains("3C de test", text, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiSamples.BirthDate, text, StringComparison.Ordinal);
        Assert.DoesNotContain("02/04/1961", text, StringComparison.Ordinal);

        // The sending is in the registration's trail once (110106 Export, after the relay accepted it), re-run or not.
        var (_, audit) = await host.SendAsync(host.Request(HttpMethod.Get, $"/audit?pageSize=200&registrationId={registrationId}", ApiRoles.Auditor));
        var sent = Assert.Single(audit.GetProperty("records").EnumerateArray(), r => r.GetProperty("eventType").GetString()!.StartsWith("Expertise", StringComparison.Ordinal) && r.TryGetProperty("sequence", out var sequence) && sequence.ValueKind == JsonValueKind.Number);
        Assert.Equal(("ExpertiseSent", "110106", 0), (sent.GetProperty("eventType").GetString(), sent.GetProperty("eventId").GetProperty("code").GetString(), sent.GetProperty("outcome").GetInt32()));
        Assert.Contains(sent.GetProperty("participantObjects").EnumerateArray(), o => o.GetProperty("idTypeCode").GetString() == "message-id" && o.GetProperty("id").GetString() == mail.GetProperty("headers").GetProperty("message-id").GetString()!.Trim('<', '>'));
        var stored = Assert.Single(audit.GetProperty("records").EnumerateArray(), r => r.GetProperty("eventType").GetString() == "StudyStored");
        // The store is in the study transfer's own trail, the e-mail in the registration's: ordered by when they were recorded.
        Assert.True(stored.GetProperty("recordedAt").GetDateTimeOffset() < sent.GetProperty("recordedAt").GetDateTimeOffset());
    }

    private static bool IsPart10(string path)
    {
        using var stream = File.OpenRead(path);
        var header = new byte[132];
        return stream.Read(header, 0, 132) == 132 && header[128] == 'D' && header[129] == 'I' && header[130] == 'C' && header[131] == 'M';
    }
}
