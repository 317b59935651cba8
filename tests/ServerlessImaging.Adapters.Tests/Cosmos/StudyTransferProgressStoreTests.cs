using ServerlessImaging.Adapters.Cosmos;
using ServerlessImaging.Adapters.Tests.Support;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Adapters.Tests.Cosmos;

/// <summary>
/// The study transfers' progress in the registrations container: the highest version of a transfer wins, and the
/// registration's read model shows the progress of each study's current transfer until the registration records
/// the study settled.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class StudyTransferProgressStoreTests(LocalStackFixture stack) : IAsyncLifetime
{
    private const string Uid1 = "1.2.250.1.1";
    private const string Uid2 = "1.2.250.1.2";

    private CosmosRegistrationViewStore _store = null!;
    private IStudyTransferProgressStore _progress = null!;
    private Microsoft.Azure.Cosmos.CosmosClient _client = null!;

    public async Task InitializeAsync()
    {
        var (client, database) = await LocalAdapters.CreateDatabaseAsync(stack.Endpoints, "transfer-progress");
        _client = client;
        _store = new CosmosRegistrationViewStore(database.GetContainer("registrations"), TimeProvider.System);
        _progress = _store;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await Task.CompletedTask;
    }

    private static string NewRegistrationId() => "reg-" + Guid.NewGuid().ToString("N");

    private static string TransferId(string registrationId, string uid, int attempt) => CommandIds.StudyTransfer(registrationId, uid, attempt);

    private static SelectedStudy Study(string uid, StudyStatus status, string? currentCommandId, int instancesDone = 0) =>
        new(uid, status, "chu-nord", 1, currentCommandId, instancesDone, instancesDone, 0, status == StudyStatus.Available ? instancesDone : 0, null)
        {
            RetrievalRound = 1,
        };

    private static RegistrationState Retrieving(string registrationId, params SelectedStudy[] selected) =>
        Samples.Started(registrationId, "chu-nord").State with
        {
            Version = 9,
            Status = RegistrationStatus.Retrieving,
            Selected = [.. selected.OrderBy(s => s.StudyInstanceUid, StringComparer.Ordinal)],
        };

    private static StudyTransferProgress Progress(string registrationId, string uid, string transferId, long version, StudyStatus status = StudyStatus.Retrieving, int done = 10) =>
        new(registrationId, uid, transferId, version, status, "chu-nord", Attempt: 1, Round: 1, InstancesDone: done, InstancesTotal: 50, BytesDone: done * 1000L, Failure: null, NextAttemptAt: null);

    [Fact]
    public async Task A_transfer_that_recorded_nothing_loads_as_null()
    {
        Assert.Null(await _progress.LoadAsync(TransferId(NewRegistrationId(), Uid1, 1), CancellationToken.None));
    }

    [Fact]
    public async Task The_highest_version_of_a_transfer_wins_whatever_order_its_steps_are_recorded_in()
    {
        var registrationId = NewRegistrationId();
        var transferId = TransferId(registrationId, Uid1, 1);
        var v2 = Progress(registrationId, Uid1, transferId, 2, StudyStatus.Storing, done: 50);
        await _progress.SaveAsync(v2, CancellationToken.None);
        await _progress.SaveAsync(Progress(registrationId, Uid1, transferId, 1, done: 10), CancellationToken.None); // a re-run, older step

        Assert.Equal(v2, await _progress.LoadAsync(transferId, CancellationToken.None));

        // The same version again replaces it (an activity's re-run records its step again).
        await _progress.SaveAsync(v2 with { BytesDone = 51_000 }, CancellationToken.None);
        Assert.Equal(51_000, (await _progress.LoadAsync(transferId, CancellationToken.None))!.BytesDone);
    }

    [Fact]
    public async Task Concurrent_saves_of_successive_steps_leave_the_highest()
    {
        var registrationId = NewRegistrationId();
        var transferId = TransferId(registrationId, Uid1, 1);
        await Task.WhenAll(Enumerable.Range(1, 8).Select(v => _progress.SaveAsync(Progress(registrationId, Uid1, transferId, v, done: v), CancellationToken.None)));

        var loaded = await _progress.LoadAsync(transferId, CancellationToken.None);
        Assert.Equal(8, loaded!.Version);
        Assert.Equal(8, loaded.InstancesDone);
    }

    [Fact]
    public async Task Each_transfer_is_its_own_document()
    {
        var registrationId = NewRegistrationId();
        var first = TransferId(registrationId, Uid1, 1);
        var second = TransferId(registrationId, Uid1, 2);
        await _progress.SaveAsync(Progress(registrationId, Uid1, first, 7, done: 30), CancellationToken.None);
        await _progress.SaveAsync(Progress(registrationId, Uid1, second, 1, done: 2), CancellationToken.None);

        Assert.Equal(30, (await _progress.LoadAsync(first, CancellationToken.None))!.InstancesDone);
        Assert.Equal(2, (await _progress.LoadAsync(second, CancellationToken.None))!.InstancesDone);
    }

    [Fact]
    public async Task A_registration_loads_with_the_progress_of_each_study_in_transfer_overlaid()
    {
        var registrationId = NewRegistrationId();
        var transfer1 = TransferId(registrationId, Uid1, 1);
        var transfer2 = TransferId(registrationId, Uid2, 1);
        var recorded = Retrieving(registrationId, Study(Uid1, StudyStatus.Retrieving, transfer1), Study(Uid2, StudyStatus.Retrieving, transfer2));
        await _store.SaveAsync(recorded, CancellationToken.None);
        await _progress.SaveAsync(Progress(registrationId, Uid1, transfer1, 3, StudyStatus.Storing, done: 50), CancellationToken.None);
        await _progress.SaveAsync(Progress(registrationId, Uid2, transfer2, 1, StudyStatus.Retrieving, done: 12), CancellationToken.None);

        var shown = await _store.LoadAsync(registrationId, CancellationToken.None);

        Assert.NotNull(shown);
        Assert.Equal(recorded.Version, shown.Version);
        var study1 = shown.SelectedOf(Uid1)!;
        Assert.Equal((StudyStatus.Storing, 50, 50, 50_000L), (study1.Status, study1.InstancesDone, study1.InstancesTotal, study1.BytesDone));
        var study2 = shown.SelectedOf(Uid2)!;
        Assert.Equal((StudyStatus.Retrieving, 12, 50), (study2.Status, study2.InstancesDone, study2.InstancesTotal));

        // The registration's own record is unchanged, and is what LoadRecordedAsync returns.
        var own = await _store.LoadRecordedAsync(registrationId, CancellationToken.None);
        Assert.Equal((StudyStatus.Retrieving, 0), (own!.SelectedOf(Uid1)!.Status, own.SelectedOf(Uid1)!.InstancesDone));
        Assert.Equal((StudyStatus.Retrieving, 0), (own.SelectedOf(Uid2)!.Status, own.SelectedOf(Uid2)!.InstancesDone));
    }

    [Fact]
    public async Task A_study_no_longer_in_transfer_shows_the_registrations_own_record()
    {
        var registrationId = NewRegistrationId();
        var transfer1 = TransferId(registrationId, Uid1, 1);
        await _store.SaveAsync(Retrieving(registrationId, Study(Uid1, StudyStatus.Retrieving, transfer1)), CancellationToken.None);
        await _progress.SaveAsync(Progress(registrationId, Uid1, transfer1, 4, StudyStatus.Storing, done: 50), CancellationToken.None);
        Assert.Equal(StudyStatus.Storing, (await _store.LoadAsync(registrationId, CancellationToken.None))!.SelectedOf(Uid1)!.Status);

        // The registration records the transfer's outcome: its record wins over the transfer's last progress.
        await _store.SaveAsync(Retrieving(registrationId, Study(Uid1, StudyStatus.Available, null, instancesDone: 50)) with { Version = 10 }, CancellationToken.None);

        var study = (await _store.LoadAsync(registrationId, CancellationToken.None))!.SelectedOf(Uid1)!;
        Assert.Equal(StudyStatus.Available, study.Status);
        Assert.Equal(50, study.InstancesStored);
        Assert.Null(study.CurrentCommandId);
    }

    [Fact]
    public async Task The_progress_of_an_earlier_transfer_of_the_study_is_not_shown()
    {
        var registrationId = NewRegistrationId();
        var earlier = TransferId(registrationId, Uid1, 1);
        var current = TransferId(registrationId, Uid1, 2);
        await _progress.SaveAsync(Progress(registrationId, Uid1, earlier, 9, StudyStatus.Storing, done: 50), CancellationToken.None);
        await _store.SaveAsync(Retrieving(registrationId, Study(Uid1, StudyStatus.Retrieving, current)), CancellationToken.None);

        var study = (await _store.LoadAsync(registrationId, CancellationToken.None))!.SelectedOf(Uid1)!;

        Assert.Equal((StudyStatus.Retrieving, 0, current), (study.Status, study.InstancesDone, study.CurrentCommandId));
    }

    [Fact]
    public async Task A_meetings_list_shows_the_registrations_own_records()
    {
        var registrationId = NewRegistrationId();
        var transfer1 = TransferId(registrationId, Uid1, 1);
        var recorded = Retrieving(registrationId, Study(Uid1, StudyStatus.Retrieving, transfer1));
        await _store.SaveAsync(recorded, CancellationToken.None);
        await _progress.SaveAsync(Progress(registrationId, Uid1, transfer1, 2, StudyStatus.Storing, done: 50), CancellationToken.None);

        var listed = await _store.ListByMeetingAsync(recorded.Plan!.MeetingId, 10, CancellationToken.None);

        var only = Assert.Single(listed.Registrations);
        Assert.Equal(StudyStatus.Retrieving, only.State.SelectedOf(Uid1)!.Status);
    }
}
