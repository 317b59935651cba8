using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Tests.Orchestrator;

/// <summary>
/// The read model's overlay of a study transfer's progress on the registration's state: it shows only on the study
/// whose current transfer it is and while the registration still records it in transfer; anything else is left as it is.
/// </summary>
public class StudyTransferProgressTests
{
    private const string Uid1 = "1.2.250.1.1";
    private const string Uid2 = "1.2.250.1.2";
    private const string Transfer1 = Fixtures.RegistrationId + "/transfer/" + Uid1 + "/a1";

    private static SelectedStudy Study(string uid, StudyStatus status, string? currentCommandId, int attempt = 1) =>
        new(uid, status, "chu-nord", attempt, currentCommandId, 0, 0, 0, 0, null) { RetrievalRound = 1 };

    private static RegistrationState State(params SelectedStudy[] selected) =>
        RegistrationState.Create(Fixtures.RegistrationId) with
        {
            Version = 7,
            Status = RegistrationStatus.Retrieving,
            Selected = [.. selected.OrderBy(s => s.StudyInstanceUid, StringComparer.Ordinal)],
        };

    private static StudyTransferProgress Progress(
        string uid = Uid1, string transferId = Transfer1, StudyStatus status = StudyStatus.Storing, string registrationId = Fixtures.RegistrationId) =>
        new(registrationId, uid, transferId, Version: 5, status, "clinique-sud", Attempt: 2, Round: 1,
            InstancesDone: 40, InstancesTotal: 120, BytesDone: 40_000_000, Failure: null, NextAttemptAt: null);

    [Fact]
    public void The_current_transfer_in_flight_shows_its_progress_on_its_study_only()
    {
        var state = State(Study(Uid1, StudyStatus.Retrieving, Transfer1), Study(Uid2, StudyStatus.Available, null));

        var shown = Progress().OverlayOn(state);

        var study = shown.SelectedOf(Uid1)!;
        Assert.Equal(StudyStatus.Storing, study.Status);
        Assert.Equal("clinique-sud", study.SiteId);
        Assert.Equal(2, study.Attempt);
        Assert.Equal((40, 120, 40_000_000L), (study.InstancesDone, study.InstancesTotal, study.BytesDone));
        Assert.Equal(Transfer1, study.CurrentCommandId);
        Assert.Same(state.SelectedOf(Uid2), shown.SelectedOf(Uid2));
        Assert.Equal(state with { Selected = shown.Selected }, shown); // only the study changes
    }

    [Fact]
    public void A_transfer_waiting_for_its_next_round_shows_when_and_why()
    {
        var state = State(Study(Uid1, StudyStatus.Retrieving, Transfer1, attempt: 3));
        var next = Fixtures.T0.AddMinutes(10);
        var failure = new StudyFailure("pacs_unreachable", "The site's PACS did not answer.");

        var study = (Progress(status: StudyStatus.Pending) with { Round = 2, Attempt = 2, Failure = failure, NextAttemptAt = next })
            .OverlayOn(state).SelectedOf(Uid1)!;

        Assert.Equal(StudyStatus.Pending, study.Status);
        Assert.Equal(2, study.RetrievalRound);
        Assert.Equal(next, study.NextAttemptAt);
        Assert.Equal(failure, study.Failure);
        Assert.Equal(3, study.Attempt); // never below the registration's own count
    }

    [Theory]
    [InlineData(StudyStatus.Available)]
    [InlineData(StudyStatus.Failed)]
    [InlineData(StudyStatus.Deleted)]
    [InlineData(StudyStatus.Pending)]
    [InlineData(StudyStatus.Storing)]
    public void A_study_the_registration_no_longer_records_in_transfer_keeps_its_own_record(StudyStatus status)
    {
        var state = State(Study(Uid1, status, status == StudyStatus.Storing ? Transfer1 : null));

        Assert.Same(state, Progress().OverlayOn(state));
    }

    [Fact]
    public void The_progress_of_an_earlier_transfer_of_the_study_is_ignored()
    {
        var state = State(Study(Uid1, StudyStatus.Retrieving, Fixtures.RegistrationId + "/transfer/" + Uid1 + "/a3"));

        Assert.Same(state, Progress().OverlayOn(state));
    }

    [Fact]
    public void A_study_in_transfer_without_a_current_transfer_id_is_left_alone()
    {
        var state = State(Study(Uid1, StudyStatus.Retrieving, null));

        Assert.Same(state, Progress().OverlayOn(state));
    }

    [Fact]
    public void An_unknown_study_leaves_the_state_unchanged()
    {
        var state = State(Study(Uid2, StudyStatus.Retrieving, Transfer1));

        Assert.Same(state, Progress().OverlayOn(state));
        var empty = State();
        Assert.Same(empty, Progress().OverlayOn(empty));
    }

    [Fact]
    public void Another_registrations_progress_is_ignored()
    {
        var state = State(Study(Uid1, StudyStatus.Retrieving, Transfer1));

        Assert.Same(state, Progress(registrationId: "reg-0002").OverlayOn(state));
    }

    [Theory]
    [InlineData(StudyStatus.Available)]
    [InlineData(StudyStatus.Failed)]
    [InlineData(StudyStatus.Deleted)]
    [InlineData(StudyStatus.Purged)]
    public void A_progress_whose_status_is_not_in_flight_is_ignored(StudyStatus status)
    {
        var state = State(Study(Uid1, StudyStatus.Retrieving, Transfer1));

        Assert.Same(state, Progress(status: status).OverlayOn(state));
    }

    [Fact]
    public void A_null_state_is_refused()
    {
        Assert.Throws<ArgumentNullException>(() => Progress().OverlayOn(null!));
    }

    [Fact]
    public void A_next_round_time_shows_only_while_waiting_for_it()
    {
        var state = State(Study(Uid1, StudyStatus.Retrieving, Transfer1));

        var study = (Progress(status: StudyStatus.Retrieving) with { NextAttemptAt = Fixtures.T0 }).OverlayOn(state).SelectedOf(Uid1)!;

        Assert.Equal(StudyStatus.Retrieving, study.Status);
        Assert.Null(study.NextAttemptAt);
    }
}
