using System.Buffers.Binary;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Tests.UpperLayer;

public class AssociatePduCodecTests
{
    private static AssociateRequest SampleRequest() => new()
    {
        CalledAeTitle = "CHUNORD",
        CallingAeTitle = "SI_TEST",
        PresentationContexts =
        [
            new PresentationContextProposal(1, DicomUids.Verification, [DicomUids.ImplicitVrLittleEndian]),
            new PresentationContextProposal(3, "1.2.840.10008.5.1.4.1.1.2", [DicomUids.ExplicitVrLittleEndian, DicomUids.ImplicitVrLittleEndian]),
        ],
        MaxPduLength = 16384,
        AsyncOperationsWindow = (1, 1),
        RoleSelections = [new RoleSelection("1.2.840.10008.5.1.4.1.1.2", false, true)],
        UserIdentity = new UserIdentityRequest(2, true, "user"u8.ToArray(), "secret"u8.ToArray()),
    };

    [Fact]
    public void Associate_request_round_trips_every_field()
    {
        var bytes = AssociatePduCodec.EncodeRequest(SampleRequest());
        Assert.Equal((byte)PduType.AssociateRequest, bytes[0]);
        Assert.Equal((uint)bytes.Length - 6, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(2)));

        var decoded = AssociatePduCodec.DecodeRequest(bytes.AsSpan(6));
        Assert.Equal("CHUNORD", decoded.CalledAeTitle);
        Assert.Equal("SI_TEST", decoded.CallingAeTitle);
        Assert.Equal(DicomUids.ApplicationContext, decoded.ApplicationContext);
        Assert.Equal(2, decoded.PresentationContexts.Count);
        Assert.Equal([DicomUids.ExplicitVrLittleEndian, DicomUids.ImplicitVrLittleEndian], decoded.PresentationContexts[1].TransferSyntaxes);
        Assert.Equal(16384u, decoded.MaxPduLength);
        Assert.Equal(((ushort)1, (ushort)1), decoded.AsyncOperationsWindow);
        var role = Assert.Single(decoded.RoleSelections);
        Assert.True(role.ScpRole);
        Assert.False(role.ScuRole);
        Assert.Equal("user"u8.ToArray(), decoded.UserIdentity!.PrimaryField);
        Assert.Equal("secret"u8.ToArray(), decoded.UserIdentity.SecondaryField);
        Assert.Equal(DicomUids.ImplementationClass, decoded.ImplementationClassUid);
    }

    [Fact]
    public void Associate_accept_round_trips_results_and_identity_response()
    {
        var ac = new AssociateAccept
        {
            CalledAeTitle = "CHUNORD",
            CallingAeTitle = "SI_TEST",
            PresentationContexts =
            [
                new PresentationContextAnswer(1, PresentationContextResult.Acceptance, DicomUids.ImplicitVrLittleEndian),
                new PresentationContextAnswer(3, PresentationContextResult.AbstractSyntaxNotSupported, null),
            ],
            MaxPduLength = 0,
            UserIdentityServerResponse = [1, 2, 3],
        };
        var decoded = AssociatePduCodec.DecodeAccept(AssociatePduCodec.EncodeAccept(ac).AsSpan(6));
        Assert.Equal(PresentationContextResult.Acceptance, decoded.PresentationContexts[0].Result);
        Assert.Equal(DicomUids.ImplicitVrLittleEndian, decoded.PresentationContexts[0].TransferSyntax);
        Assert.Equal(PresentationContextResult.AbstractSyntaxNotSupported, decoded.PresentationContexts[1].Result);
        Assert.Null(decoded.PresentationContexts[1].TransferSyntax);
        Assert.Equal(0u, decoded.MaxPduLength);
        Assert.Equal([1, 2, 3], decoded.UserIdentityServerResponse);
    }

    [Fact]
    public void Item_length_overrunning_the_pdu_is_a_typed_protocol_error()
    {
        var bytes = AssociatePduCodec.EncodeRequest(SampleRequest());
        // Corrupt the application context item length (first item after the 68-byte fixed part).
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(6 + 68 + 2), 60000);
        var ex = Assert.Throws<DicomProtocolException>(() => AssociatePduCodec.DecodeRequest(bytes.AsSpan(6)));
        Assert.Equal(AbortReason.InvalidPduParameterValue, ex.Reason);
    }

    [Fact]
    public void Truncated_fixed_fields_are_a_typed_protocol_error()
    {
        Assert.Throws<DicomProtocolException>(() => AssociatePduCodec.DecodeRequest(new byte[20]));
        Assert.Throws<DicomProtocolException>(() => AssociatePduCodec.DecodeAccept(new byte[67]));
    }

    [Fact]
    public void Reject_and_abort_carry_their_codes()
    {
        var rj = AssociatePduCodec.EncodeReject(RejectResult.RejectedTransient, RejectSource.ServiceUser, 3);
        Assert.Equal((RejectResult.RejectedTransient, RejectSource.ServiceUser, (byte)3), AssociatePduCodec.DecodeReject(rj.AsSpan(6)));
        var ab = AssociatePduCodec.EncodeAbort(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu);
        Assert.Equal((AbortSource.ServiceProvider, AbortReason.UnexpectedPdu), AssociatePduCodec.DecodeAbort(ab.AsSpan(6)));
    }

    [Fact]
    public void Ae_titles_longer_than_16_characters_are_refused_before_sending()
    {
        var rq = new AssociateRequest { CalledAeTitle = new string('A', 17), CallingAeTitle = "X", PresentationContexts = [] };
        Assert.Throws<ArgumentException>(() => AssociatePduCodec.EncodeRequest(rq));
    }
}
