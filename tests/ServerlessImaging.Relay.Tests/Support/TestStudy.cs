using ServerlessImaging.Dicom;
using ServerlessImaging.Testing.Dcmtk;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Relay.Tests.Support;

/// <summary>
/// A study made for one test from the shared corpus (CT_small for series 1, MR_small for series 2…), with
/// run-unique UIDs and a unique synthetic patient, loaded into a site PACS with storescu.
/// </summary>
public sealed record TestStudy(
    string StudyInstanceUid,
    IReadOnlyDictionary<string, string> SeriesBySop,
    IReadOnlyDictionary<string, string> FileBySop,
    string FamilyName,
    DateOnly BirthDate,
    string Sex)
{
    public IReadOnlyList<string> SeriesUids => SeriesBySop.Values.Distinct(StringComparer.Ordinal).ToList();

    public static Task<TestStudy> CreateAndLoadAsync(LocalStackFixture stack, string siteId, int series, int instancesPerSeries, CancellationToken cancellationToken = default)
    {
        var pacs = stack.Endpoints.Site(siteId);
        return CreateAndLoadAsync(stack, new DicomAssociation(pacs.Host, pacs.DicomPort, pacs.AeTitle, "STORESCU"), series, instancesPerSeries, cancellationToken);
    }

    /// <summary>The same, loaded into the cloud DICOM service (the source of deliveries).</summary>
    public static Task<TestStudy> CreateInDicomServiceAsync(LocalStackFixture stack, int series, int instancesPerSeries, CancellationToken cancellationToken = default)
    {
        var service = stack.Endpoints.DicomService;
        return CreateAndLoadAsync(stack, new DicomAssociation(service.Host, service.DicomPort, service.AeTitle, "STORESCU"), series, instancesPerSeries, cancellationToken);
    }

    private static async Task<TestStudy> CreateAndLoadAsync(LocalStackFixture stack, DicomAssociation target, int series, int instancesPerSeries, CancellationToken cancellationToken)
    {
        var corpus = DicomTestFiles.CorpusDirectory(stack.RepositoryRootPath);
        var directory = Path.Combine(Path.GetTempPath(), "si-relay-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var family = "RELAY" + UniqueNames.PatientSuffix();
        var birthDate = new DateOnly(1950 + Random.Shared.Next(40), 1 + Random.Shared.Next(12), 1 + Random.Shared.Next(28));
        var study = UniqueNames.DicomUid();
        var seriesBySop = new Dictionary<string, string>(StringComparer.Ordinal);
        var fileBySop = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var s = 0; s < series; s++)
        {
            var source = await DicomFile.OpenAsync(Path.Combine(corpus, s % 2 == 0 ? "CT_small.dcm" : "MR_small.dcm"), cancellationToken: cancellationToken);
            var seriesUid = UniqueNames.DicomUid();
            for (var i = 0; i < instancesPerSeries; i++)
            {
                var sop = UniqueNames.DicomUid();
                var ds = source.Dataset;
                ds.AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 100");
                ds.AddOrUpdate(DicomTag.PatientName, family + "^TEST");
                ds.AddOrUpdate(DicomTag.PatientID, "PID" + family);
                ds.AddOrUpdate(DicomTag.PatientBirthDate, birthDate);
                ds.AddOrUpdate(DicomTag.PatientSex, "F");
                ds.AddOrUpdate(DicomTag.StudyInstanceUID, study);
                ds.AddOrUpdate(DicomTag.StudyDate, new DateOnly(2024, 5, 17));
                ds.AddOrUpdate(DicomTag.StudyDescription, "RELAY TEST");
                ds.AddOrUpdate(DicomTag.SeriesInstanceUID, seriesUid);
                ds.AddOrUpdate(DicomTag.SeriesNumber, (s + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
                ds.AddOrUpdate(DicomTag.InstanceNumber, (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
                ds.AddOrUpdate(DicomTag.SOPInstanceUID, sop);
                var path = Path.Combine(directory, sop + ".dcm");
                await new DicomFile(ds).SaveAsync(path, cancellationToken: cancellationToken);
                seriesBySop[sop] = seriesUid;
                fileBySop[sop] = path;
            }
        }

        await DcmtkScu.StoreAsync(target, fileBySop.Values, cancellationToken);
        return new TestStudy(study, seriesBySop, fileBySop, family, birthDate, "F");
    }
}
