using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.Dimse;
using ServerlessImaging.Dicom.Networking.Tests.Support;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Dicom.Networking.Tests.Interop;

[Collection(LocalStackFixture.CollectionName)]
public sealed class FindTests : IClassFixture<SeededStudies>
{
    private readonly SeededStudies seed;

    public FindTests(SeededStudies seed, LocalStackFixture stack)
    {
        this.seed = seed;
        Peers.Bind(stack);
    }

    public static TheoryData<string> PacsNames => ["CHUNORD", "CLINSUD", "CHEST"];

    private static async Task<List<DicomDataset>> Find(string pacs, QueryModel model, QueryRetrieveLevel level, DicomDataset keys)
    {
        var list = new List<DicomDataset>();
        await foreach (var ds in EchoAndStoreTests.ClientFor(EchoAndStoreTests.Peer(pacs)).FindAsync(model, level, keys)) list.Add(ds);
        return list;
    }

    private static DicomDataset StudyKeys(string patientId) => new DicomDataset()
        .AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192")
        .AddOrUpdate(DicomTag.PatientID, patientId)
        .AddOrUpdate(DicomTag.PatientName, "")
        .AddOrUpdate(DicomTag.StudyDate, "")
        .AddOrUpdate(DicomTag.StudyInstanceUID, "")
        .AddOrUpdate(DicomTag.ModalitiesInStudy, "");

    [Theory]
    [MemberData(nameof(PacsNames))]
    public async Task Study_find_with_wildcard_returns_both_studies_with_accented_names_decoded(string pacs)
    {
        var results = await Find(pacs, QueryModel.StudyRoot, QueryRetrieveLevel.Study, StudyKeys("SI?" + seed.Token));
        Assert.Equal(2, results.Count);
        var a = Assert.Single(results, r => r.GetString(DicomTag.StudyInstanceUID) == seed.StudyA);
        var b = Assert.Single(results, r => r.GetString(DicomTag.StudyInstanceUID) == seed.StudyB);
        // A was stored under ISO_IR 192 (UTF-8), B under ISO_IR 100 (Latin-1); both must come back readable.
        Assert.Equal("LEFÈVRE" + seed.Token, a.GetPersonName(DicomTag.PatientName).FamilyName);
        Assert.Equal("Hélène", a.GetPersonName(DicomTag.PatientName).GivenName);
        Assert.Equal("MÜLLER" + seed.Token, b.GetPersonName(DicomTag.PatientName).FamilyName);
        Assert.Equal("Zoé", b.GetPersonName(DicomTag.PatientName).GivenName);
    }

    [Theory]
    [MemberData(nameof(PacsNames))]
    public async Task Study_find_with_date_range_keeps_only_matching_study(string pacs)
    {
        var keys = StudyKeys("SI*" + seed.Token).AddOrUpdate(DicomTag.StudyDate, "20240101-20241231");
        var result = Assert.Single(await Find(pacs, QueryModel.StudyRoot, QueryRetrieveLevel.Study, keys));
        Assert.Equal(seed.StudyA, result.GetString(DicomTag.StudyInstanceUID));
        Assert.Equal(new DateOnly(2024, 3, 1), result.GetDate(DicomTag.StudyDate));
    }

    [Theory]
    [InlineData("CHUNORD")]
    [InlineData("CLINSUD")]
    public async Task Study_find_by_modalities_in_study_matches_one_of_the_series_modalities(string pacs)
    {
        var keys = StudyKeys("SI*" + seed.Token).AddOrUpdate(DicomTag.ModalitiesInStudy, "MR");
        var result = Assert.Single(await Find(pacs, QueryModel.StudyRoot, QueryRetrieveLevel.Study, keys));
        Assert.Equal(seed.StudyA, result.GetString(DicomTag.StudyInstanceUID));
        Assert.Equal(["CT", "MR"], result.GetStrings(DicomTag.ModalitiesInStudy).Order());
    }

    [Theory]
    [MemberData(nameof(PacsNames))]
    public async Task Series_and_image_level_find_within_a_study(string pacs)
    {
        var seriesKeys = new DicomDataset()
            .AddOrUpdate(DicomTag.StudyInstanceUID, seed.StudyA)
            .AddOrUpdate(DicomTag.SeriesInstanceUID, "")
            .AddOrUpdate(DicomTag.Modality, "");
        var series = await Find(pacs, QueryModel.StudyRoot, QueryRetrieveLevel.Series, seriesKeys);
        Assert.Equal(new[] { seed.StudyASeriesCt, seed.StudyASeriesMr }.Order(StringComparer.Ordinal), series.Select(s => s.GetString(DicomTag.SeriesInstanceUID)).Order(StringComparer.Ordinal));

        var imageKeys = new DicomDataset()
            .AddOrUpdate(DicomTag.StudyInstanceUID, seed.StudyA)
            .AddOrUpdate(DicomTag.SeriesInstanceUID, seed.StudyASeriesMr)
            .AddOrUpdate(DicomTag.SOPInstanceUID, "");
        var image = Assert.Single(await Find(pacs, QueryModel.StudyRoot, QueryRetrieveLevel.Image, imageKeys));
        Assert.False(string.IsNullOrEmpty(image.GetString(DicomTag.SOPInstanceUID)));
    }

    [Theory]
    [MemberData(nameof(PacsNames))]
    public async Task Patient_root_patient_level_find(string pacs)
    {
        var keys = new DicomDataset()
            .AddOrUpdate(DicomTag.PatientID, seed.PatientB.PatientId)
            .AddOrUpdate(DicomTag.PatientName, "")
            .AddOrUpdate(DicomTag.PatientBirthDate, "");
        var patient = Assert.Single(await Find(pacs, QueryModel.PatientRoot, QueryRetrieveLevel.Patient, keys));
        Assert.Equal(new DateOnly(1961, 4, 2), patient.GetDate(DicomTag.PatientBirthDate));
    }

    [Theory]
    [MemberData(nameof(PacsNames))]
    public async Task Accented_name_in_the_query_key_under_utf8_matches(string pacs)
    {
        var keys = new DicomDataset()
            .AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192")
            .AddOrUpdate(DicomTag.PatientName, "LEFÈVRE" + seed.Token + "*")
            .AddOrUpdate(DicomTag.StudyInstanceUID, "");
        var result = Assert.Single(await Find(pacs, QueryModel.StudyRoot, QueryRetrieveLevel.Study, keys));
        Assert.Equal(seed.StudyA, result.GetString(DicomTag.StudyInstanceUID));
    }

    [Fact]
    public async Task Accented_name_in_the_query_key_under_latin1_matches_on_orthanc()
    {
        var keys = new DicomDataset()
            .AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 100")
            .AddOrUpdate(DicomTag.PatientName, "MÜLLER" + seed.Token + "*")
            .AddOrUpdate(DicomTag.StudyInstanceUID, "");
        var result = Assert.Single(await Find("CHUNORD", QueryModel.StudyRoot, QueryRetrieveLevel.Study, keys));
        Assert.Equal(seed.StudyB, result.GetString(DicomTag.StudyInstanceUID));
    }

    [Theory]
    [MemberData(nameof(PacsNames))]
    public async Task Leaving_a_find_early_sends_c_cancel_and_closes_cleanly(string pacs)
    {
        var client = EchoAndStoreTests.ClientFor(EchoAndStoreTests.Peer(pacs));
        var seen = 0;
        await foreach (var _ in client.FindAsync(QueryModel.StudyRoot, QueryRetrieveLevel.Study, StudyKeys("SI*" + seed.Token)))
        {
            seen++;
            break;
        }
        Assert.Equal(1, seen);
        Assert.Equal(DimseStatus.Success, await client.EchoAsync()); // the peer is still fine with us
    }

    [Theory]
    [MemberData(nameof(PacsNames))]
    public async Task A_query_session_runs_study_series_and_image_finds_on_one_association_even_after_one_left_early(string pacs)
    {
        var client = EchoAndStoreTests.ClientFor(EchoAndStoreTests.Peer(pacs));
        await using var queries = await client.OpenQuerySessionAsync(QueryModel.StudyRoot);

        // The first query left after one match (C-CANCEL, drained), then three more on the same association.
        await foreach (var _ in queries.FindAsync(QueryRetrieveLevel.Study, StudyKeys("SI*" + seed.Token)))
        {
            break;
        }

        var studies = await ToListAsync(queries.FindAsync(QueryRetrieveLevel.Study, StudyKeys("SI?" + seed.Token)));
        var series = await ToListAsync(queries.FindAsync(QueryRetrieveLevel.Series, new DicomDataset()
            .AddOrUpdate(DicomTag.StudyInstanceUID, seed.StudyA)
            .AddOrUpdate(DicomTag.SeriesInstanceUID, "")
            .AddOrUpdate(DicomTag.Modality, "")));
        var images = await ToListAsync(queries.FindAsync(QueryRetrieveLevel.Image, new DicomDataset()
            .AddOrUpdate(DicomTag.StudyInstanceUID, seed.StudyA)
            .AddOrUpdate(DicomTag.SeriesInstanceUID, "")
            .AddOrUpdate(DicomTag.SOPInstanceUID, "")));

        Assert.Equal(new[] { seed.StudyA, seed.StudyB }.Order(StringComparer.Ordinal), studies.Select(s => s.GetString(DicomTag.StudyInstanceUID)).Order(StringComparer.Ordinal));
        Assert.Equal(["CT", "MR"], series.Select(s => s.GetString(DicomTag.Modality)).Order(StringComparer.Ordinal));
        Assert.Equal(series.Count, images.Select(i => i.GetString(DicomTag.SeriesInstanceUID)).Distinct().Count());
        Assert.Equal(DimseStatus.Success, await client.EchoAsync()); // the peer is still fine with us

        static async Task<List<DicomDataset>> ToListAsync(IAsyncEnumerable<DicomDataset> matches)
        {
            var list = new List<DicomDataset>();
            await foreach (var match in matches)
            {
                list.Add(match);
            }

            return list;
        }
    }
}
