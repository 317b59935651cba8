using System.Security.Cryptography;
using ServerlessImaging.RegionGenerator.Loading;
using ServerlessImaging.RegionGenerator.Manifest;
using ServerlessImaging.RegionGenerator.Options;
using ServerlessImaging.RegionGenerator.Sites;
using ServerlessImaging.RegionGenerator.Writing;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Stack.Tests.Generator;

/// <summary>
/// Ground truth against the real site PACS: a tiny region with a run-unique seed (so its patient IDs and UIDs
/// exist nowhere else in the shared PACS) is generated and C-STOREd, then every site is queried with findscu
/// and must hold exactly what the manifest says, patient module included.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class RegionLoadedIntoSitesTests(LocalStackFixture stack)
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static RegionManifest? loaded;

    public static TheoryData<string> Sites => ["chu-nord", "clinique-sud", "ch-est"];

    private async Task<RegionManifest> TinyRegionLoadedOnceAsync(CancellationToken ct)
    {
        await Gate.WaitAsync(ct);
        try
        {
            if (loaded is null)
            {
                var sites = RegionSites.Resolve(RegionSites.DefaultIds, Path.Combine(stack.RepositoryRootPath, ".local", "stack", "stack.json"));
                // A fresh seed each run (nothing already loaded can make it pass), drawn again in the rare case the tiny
                // plan leaves a site without any study, so that every site is really checked.
                RegionManifest plan;
                do
                {
                    var seed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) >> 1;
                    plan = RegionWriter.Plan(seed, GenerationProfiles.Get("tiny", RegionSites.DefaultIds), sites);
                }
                while (RegionSites.DefaultIds.Any(id => !plan.StudiesAt(id).Any()));
                var dir = Directory.CreateTempSubdirectory("si-region-load-").FullName;
                try
                {
                    var manifest = await RegionWriter.WriteAsync(plan, dir, ct);
                    var results = await new StorescuLoader().LoadAsync(manifest, dir, ct);
                    Assert.Equal(manifest.InstanceCount, results.Sum(r => r.Instances));
                    loaded = manifest;
                }
                finally
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
            return loaded;
        }
        finally
        {
            Gate.Release();
        }
    }

    [Theory]
    [MemberData(nameof(Sites))]
    public async Task Each_site_holds_exactly_the_manifest_studies_with_their_patient_module(string siteId)
    {
        var ct = TestDeadline.Start();
        var region = await TinyRegionLoadedOnceAsync(ct);
        var site = region.Site(siteId);
        var checkedStudies = 0;

        foreach (var patient in region.Patients)
        {
            var record = patient.Records.FirstOrDefault(r => r.Site == siteId);
            if (record is null)
            {
                continue;
            }
            var expected = region.StudiesAt(siteId).Where(s => s.PatientKey == patient.Key).ToDictionary(s => s.StudyInstanceUid, StringComparer.Ordinal);
            var found = await DcmtkQuery.FindAsync(site.Host, site.DicomPort, site.AeTitle, "STUDY", new Dictionary<string, string>
            {
                ["PatientID"] = record.PatientId,
                ["StudyInstanceUID"] = "", ["PatientName"] = "", ["PatientBirthDate"] = "", ["PatientSex"] = "", ["StudyDate"] = "",
                ["AccessionNumber"] = "", ["ModalitiesInStudy"] = "", ["NumberOfStudyRelatedInstances"] = "",
            }, ct);

            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), found.Select(f => f["StudyInstanceUID"]).Order(StringComparer.Ordinal));
            foreach (var answer in found)
            {
                var study = expected[answer["StudyInstanceUID"]];
                Assert.Equal(record.PatientName, answer["PatientName"]);
                Assert.Equal(record.PatientId, answer["PatientID"]);
                Assert.Equal(patient.BirthDate, answer["PatientBirthDate"]);
                Assert.Equal(patient.Sex.ToString(), answer["PatientSex"]);
                Assert.Equal(study.StudyDate, answer["StudyDate"]);
                Assert.Equal(study.AccessionNumber, answer["AccessionNumber"]);
                if (site.Kind == SiteKind.Orthanc)
                {
                    // dcmqrscp computes neither of these; its series and instances are counted below instead.
                    Assert.Equal(study.Modalities, answer["ModalitiesInStudy"].Split('\\').Order(StringComparer.Ordinal));
                    Assert.Equal(study.InstanceCount.ToString(System.Globalization.CultureInfo.InvariantCulture), answer["NumberOfStudyRelatedInstances"]);
                }
                await AssertSeriesAndInstancesAsync(site, study, ct);
                checkedStudies++;
            }
        }
        Assert.Equal(region.StudiesAt(siteId).Count(), checkedStudies);
        Assert.True(checkedStudies > 0, $"the tiny region put no study at {siteId}");
    }

    private static async Task AssertSeriesAndInstancesAsync(ManifestSite site, ManifestStudy study, CancellationToken ct)
    {
        var series = await DcmtkQuery.FindAsync(site.Host, site.DicomPort, site.AeTitle, "SERIES", new Dictionary<string, string>
        {
            ["StudyInstanceUID"] = study.StudyInstanceUid, ["SeriesInstanceUID"] = "", ["Modality"] = "", ["SeriesNumber"] = "",
        }, ct);
        Assert.Equal(
            study.Series.Select(s => (s.SeriesInstanceUid, s.Modality)).Order(),
            series.Select(s => (s["SeriesInstanceUID"], s["Modality"])).Order());

        foreach (var expected in study.Series)
        {
            var images = await DcmtkQuery.FindAsync(site.Host, site.DicomPort, site.AeTitle, "IMAGE", new Dictionary<string, string>
            {
                ["StudyInstanceUID"] = study.StudyInstanceUid, ["SeriesInstanceUID"] = expected.SeriesInstanceUid, ["SOPInstanceUID"] = "",
            }, ct);
            Assert.Equal(expected.Instances.Select(i => i.SopInstanceUid).Order(StringComparer.Ordinal), images.Select(i => i["SOPInstanceUID"]).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task Loading_into_an_unreachable_pacs_fails_with_a_typed_error_naming_the_site()
    {
        var ct = TestDeadline.Start();
        var sites = new[] { RegionSites.Defaults[0] with { DicomPort = 9 } }; // discard port: nothing listens
        var options = GenerationProfiles.Get("tiny", ["chu-nord"]) with { Patients = 1, NearMisses = false };
        var dir = Directory.CreateTempSubdirectory("si-region-unreachable-").FullName;
        try
        {
            var manifest = await RegionWriter.WriteAsync(RegionWriter.Plan(3, options, sites), dir, ct);
            var error = await Assert.ThrowsAsync<RegionLoadException>(() => new StorescuLoader().LoadAsync(manifest, dir, ct));
            Assert.Equal("chu-nord", error.Site);
            Assert.Contains("0/", error.Message, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(dir, RegionManifestFile.FileName)), "the generated region is kept for a retry");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
