using System.Net;
using System.Text;
using ServerlessImaging.Dicom.Web.Stow;

namespace ServerlessImaging.Dicom.Web.Tests.Stow;

public class StowResponseParserTests
{
    // Shape of Orthanc 1.10's XML answer (Accept: application/dicom+xml), with a failure and a warning added.
    private const string Xml = """
        <?xml version="1.0" encoding="utf-8"?>
        <NativeDicomModel xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM">
          <DicomAttribute tag="00081190" vr="UR" keyword="RetrieveURL"><Value number="1">http://x/studies/1.2</Value></DicomAttribute>
          <DicomAttribute tag="00081198" vr="SQ" keyword="FailedSOPSequence">
            <Item number="1">
              <DicomAttribute tag="00081150" vr="UI"><Value number="1">1.2.840.10008.5.1.4.1.1.7</Value></DicomAttribute>
              <DicomAttribute tag="00081155" vr="UI"><Value number="1">1.2.3.9</Value></DicomAttribute>
              <DicomAttribute tag="00081197" vr="US"><Value number="1">45070</Value></DicomAttribute>
            </Item>
          </DicomAttribute>
          <DicomAttribute tag="00081199" vr="SQ" keyword="ReferencedSOPSequence">
            <Item number="1">
              <DicomAttribute tag="00081150" vr="UI"><Value number="1">1.2.840.10008.5.1.4.1.1.7</Value></DicomAttribute>
              <DicomAttribute tag="00081155" vr="UI"><Value number="1">1.2.3.4</Value></DicomAttribute>
              <DicomAttribute tag="00081196" vr="US"><Value number="1">45056</Value></DicomAttribute>
            </Item>
          </DicomAttribute>
        </NativeDicomModel>
        """;

    [Fact]
    public void Xml_response_gives_stored_failed_duplicates_and_warnings()
    {
        var result = StowResponseParser.FromXml(Encoding.UTF8.GetBytes(Xml), HttpStatusCode.Accepted, sentCount: 3, []);
        Assert.Equal("http://x/studies/1.2", result.RetrieveUrl);
        var stored = Assert.Single(result.Stored);
        Assert.Equal("1.2.3.4", stored.SopInstanceUid);
        Assert.Equal(StowStatusCodes.CoercionOfDataElements, stored.WarningReason);
        var failed = Assert.Single(result.Failed);
        Assert.True(failed.IsDuplicate);
        Assert.Equal("instance already exists", failed.Description);
        Assert.Equal(1, result.UnreportedCount);
        Assert.Equal(StowOutcome.Partial, result.Outcome);
        Assert.Contains(result.Warnings, w => w.Contains("coercion", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.Contains("1 of 3 parts", StringComparison.Ordinal));
    }

    [Fact]
    public void Nothing_stored_is_a_failed_outcome()
    {
        var result = new StowResult { StatusCode = HttpStatusCode.Conflict, SentCount = 1, Failed = [new("1.2", "1.2.3", StowStatusCodes.DuplicateInstance)] };
        Assert.Equal(StowOutcome.Failed, result.Outcome);
    }
}
