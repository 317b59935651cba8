using System.Text.Json;
using ServerlessImaging.LocalRun;
using ServerlessImaging.LocalRun.Scenario;
using ServerlessImaging.RegionGenerator.Manifest;

namespace ServerlessImaging.LocalRun.Tests;

public class ScenarioPatientTests
{
    [Fact]
    public void Chooses_the_married_patient_a_near_miss_shadows_and_filters_out_the_study_with_other_modalities()
    {
        var manifest = Region(
            [Person("P1", "DUPONT", "DUPONT"), Person("P2", "LEFEVRE", "MARTIN"), Person("P3", "NOEL", "LEVEQUE"), Person("P4", "LEFEVRE", "MARTIN", nearMissOf: "P2")],
            [Study("1.1", "P2", "CT"), Study("1.2", "P2", "NM"), Study("1.3", "P3", "MR"), Study("1.4", "P1", "CT"), Study("1.5", "P4", "CT")]);

        var chosen = ScenarioPatient.Choose(manifest);

        Assert.Equal("P2", chosen.Patient.Key);
        Assert.Equal(["CT"], chosen.FilterModalities);
        Assert.Equal(["1.1"], chosen.ExpectedCandidates.Select(s => s.StudyInstanceUid));
        Assert.Equal(["1.1", "1.2", "1.5"], chosen.AllRelevantStudies(manifest).Select(s => s.StudyInstanceUid));
    }

    [Fact]
    public void No_modality_filter_when_the_last_study_shares_a_modality_with_the_others()
    {
        var manifest = Region([Person("P2", "LEFEVRE", "MARTIN")], [Study("1.1", "P2", "CT"), Study("1.2", "P2", "CT")]);

        var chosen = ScenarioPatient.Choose(manifest);

        Assert.Empty(chosen.FilterModalities);
        Assert.Equal(2, chosen.ExpectedCandidates.Count);
    }

    [Fact]
    public void A_region_without_a_married_patient_is_a_clear_error()
    {
        var manifest = Region([Person("P1", "DUPONT", "DUPONT")], [Study("1.1", "P1", "CT")]);

        var error = Assert.Throws<LocalRunException>(() => ScenarioPatient.Choose(manifest));
        Assert.Contains("--seed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Redaction_removes_every_name_and_the_birth_date()
    {
        var chosen = ScenarioPatient.Choose(Region([Person("P2", "LEFÈVRE", "MARTIN-DUPONT", first: "Hélène")], [Study("1.1", "P2", "CT")]));

        var text = chosen.Redact("Le dossier de Mme MARTIN-DUPONT Hélène (née LEFÈVRE le 16/07/1950), Mme Martin");

        Assert.DoesNotContain("MARTIN", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Hélène", text, StringComparison.Ordinal);
        Assert.DoesNotContain("LEFÈVRE", text, StringComparison.Ordinal);
        Assert.DoesNotContain("1950", text, StringComparison.Ordinal);
        Assert.Contains("«P2»", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_summary_has_the_documented_members()
    {
        var summary = new RunSummary("reg-1", "http://127.0.0.1:1/", "http://127.0.0.1:8144/dicom-web/",
            [new SiteHealth("chu-nord", true, DateTimeOffset.UnixEpoch, "0.1.0", "Ok")], 2, 1, ["1.1", "1.2"], [new AvailableStudy("1.1", 3)], 1, 20);

        using var json = JsonDocument.Parse(summary.ToJson());
        var root = json.RootElement;

        Assert.Equal(
            ["registrationId", "apiUrl", "dicomWebUrl", "sites", "candidates", "nearMissesRejected", "selectedStudies", "availableStudies", "emailsReceived", "auditRecords"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["siteId", "relayVersion", "lastSeen", "pacsEcho"], root.GetProperty("sites")[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(3, root.GetProperty("availableStudies")[0].GetProperty("instances").GetInt32());
        Assert.DoesNotContain('\n', summary.ToJson());
    }

    private static ManifestPatient Person(string key, string birthName, string usageName, string first = "Anne", string? nearMissOf = null) => new()
    {
        Key = key,
        BirthName = birthName,
        UsageName = usageName,
        FirstName = first,
        BirthDate = "19500716",
        Sex = PatientSex.F,
        NearMiss = nearMissOf is null ? null : new ManifestNearMiss { Kind = NearMissKind.HomonymOtherBirthDate, Of = nearMissOf },
        Records = [],
    };

    private static ManifestStudy Study(string uid, string patientKey, string modality) => new()
    {
        StudyInstanceUid = uid,
        PatientKey = patientKey,
        Sites = ["chu-nord"],
        StudyDate = "20200101",
        StudyTime = "120000",
        AccessionNumber = "A1",
        StudyId = "1",
        Description = "d",
        ReferringPhysicianName = "R",
        Modalities = [modality],
        Series = [],
    };

    private static RegionManifest Region(IReadOnlyList<ManifestPatient> patients, IReadOnlyList<ManifestStudy> studies) => new()
    {
        Seed = 1,
        Options = new ManifestOptions
        {
            Profile = "tiny",
            Patients = patients.Count,
            NearMisses = true,
            StudiesPerPatient = "1",
            SeriesPerStudy = "1",
            InstancesPerSeries = "1",
            Rows = 8,
            Columns = 8,
            Modalities = ["CT"],
            SiteIds = ["chu-nord"],
        },
        Sites = [],
        Patients = patients,
        Studies = studies,
    };
}
