using System.Runtime.CompilerServices;
using ServerlessImaging.Dicom.Networking.Storage;

namespace ServerlessImaging.Dicom.Networking.Client;

/// <summary>Query/Retrieve information model (PS3.4 C.3).</summary>
public enum QueryModel { StudyRoot, PatientRoot }

/// <summary>Query/Retrieve level written into (0008,0052).</summary>
public enum QueryRetrieveLevel { Patient, Study, Series, Image }

public sealed partial class DicomClient
{
    /// <summary>C-FIND: sets QueryRetrieveLevel on a copy of <paramref name="keys"/> and yields every match as a data set.</summary>
    public async IAsyncEnumerable<DicomDataset> FindAsync(QueryModel model, QueryRetrieveLevel level, DicomDataset keys,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var identifier = await EncodeIdentifierAsync(level, keys, ct);
        await foreach (var bytes in FindRawAsync(SopClassFor(model, Operation.Find), identifier, DicomUids.ImplicitVrLittleEndian, ct))
            yield return await DicomDatasetReader.ReadAsync(bytes, DicomTransferSyntax.ImplicitVRLittleEndian, cancellationToken: ct);
    }

    /// <summary>Opens one association for several C-FINDs in <paramref name="model"/> (<see cref="DicomQuerySession"/>).</summary>
    public async Task<DicomQuerySession> OpenQuerySessionAsync(QueryModel model, CancellationToken ct = default)
    {
        var sopClass = SopClassFor(model, Operation.Find);
        var association = await OpenAsync([(sopClass, [DicomUids.ImplicitVrLittleEndian])], ct: ct);
        try
        {
            return new DicomQuerySession(association, RequireContext(association, sopClass), sopClass);
        }
        catch
        {
            await association.DisposeAsync();
            throw;
        }
    }

    /// <summary>C-MOVE of the instances matching <paramref name="keys"/> to <paramref name="destinationAe"/>.</summary>
    public async Task<RetrieveResult> MoveAsync(QueryModel model, QueryRetrieveLevel level, DicomDataset keys, string destinationAe,
        IProgress<SubOperationProgress>? progress = null, CancellationToken ct = default)
    {
        var identifier = await EncodeIdentifierAsync(level, keys, ct);
        return await MoveRawAsync(SopClassFor(model, Operation.Move), destinationAe, identifier, DicomUids.ImplicitVrLittleEndian, progress, ct);
    }

    /// <summary>C-GET of the instances matching <paramref name="keys"/>, streamed into <paramref name="sink"/>.</summary>
    public async Task<RetrieveResult> GetAsync(QueryModel model, QueryRetrieveLevel level, DicomDataset keys, IInstanceSink sink,
        IProgress<SubOperationProgress>? progress = null, CancellationToken ct = default)
    {
        var identifier = await EncodeIdentifierAsync(level, keys, ct);
        return await GetRawAsync(SopClassFor(model, Operation.Get), identifier, sink, DicomUids.ImplicitVrLittleEndian, progress: progress, ct: ct);
    }

    /// <summary>Keys of a study (and optionally series) retrieve at the matching level, Study Root.</summary>
    public static (QueryRetrieveLevel Level, DicomDataset Keys) RetrieveKeys(string studyInstanceUid, string? seriesInstanceUid = null)
    {
        // VRs given explicitly: a retrieve then never loads the core's data dictionary (its one-off JIT costs ~70 MB of native
        // memory that glibc keeps), so a relay that only moves studies stays small.
        var keys = new DicomDataset().AddOrUpdate(DicomTag.StudyInstanceUID, DicomVR.UI, studyInstanceUid);
        if (seriesInstanceUid is null) return (QueryRetrieveLevel.Study, keys);
        keys.AddOrUpdate(DicomTag.SeriesInstanceUID, DicomVR.UI, seriesInstanceUid);
        return (QueryRetrieveLevel.Series, keys);
    }

    internal static async Task<byte[]> EncodeIdentifierAsync(QueryRetrieveLevel level, DicomDataset keys, CancellationToken ct)
    {
        var identifier = keys.Clone();
        identifier.AddOrUpdate(DicomTag.QueryRetrieveLevel, DicomVR.CS, level switch
        {
            QueryRetrieveLevel.Patient => "PATIENT",
            QueryRetrieveLevel.Study => "STUDY",
            QueryRetrieveLevel.Series => "SERIES",
            _ => "IMAGE",
        });
        return await DicomDatasetWriter.ToBytesAsync(identifier, DicomTransferSyntax.ImplicitVRLittleEndian, ct);
    }

    private enum Operation { Find, Move, Get }

    private static string SopClassFor(QueryModel model, Operation operation) => (model, operation) switch
    {
        (QueryModel.StudyRoot, Operation.Find) => DicomUids.StudyRootFind,
        (QueryModel.StudyRoot, Operation.Move) => DicomUids.StudyRootMove,
        (QueryModel.StudyRoot, Operation.Get) => DicomUids.StudyRootGet,
        (QueryModel.PatientRoot, Operation.Find) => DicomUids.PatientRootFind,
        (QueryModel.PatientRoot, Operation.Move) => DicomUids.PatientRootMove,
        _ => DicomUids.PatientRootGet,
    };
}
