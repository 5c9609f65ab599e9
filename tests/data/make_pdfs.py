"""Makes the PDF fixtures of the YARA tests: an official letter (công văn) stamped TỐI MẬT,
and the same letter without the stamp that still speaks of "bảo mật" (security). Fonts are
embedded subsets of DejaVu Sans with a ToUnicode map, as office suites write them.

    pip install reportlab && python3 tests/data/make_pdfs.py
"""
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

pdfmetrics.registerFont(TTFont("DejaVu", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))


def letter(path, stamp):
    c = canvas.Canvas(path, pagesize=A4, invariant=1)
    c.setFont("DejaVu", 12)
    c.drawString(60, 800, "ỦY BAN NHÂN DÂN TỈNH")
    c.drawString(340, 800, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    c.drawString(60, 780, "Số: 123/UBND-VP")
    if stamp:
        c.setFont("DejaVu", 16)
        c.drawString(60, 750, "TỐI MẬT")
        c.setFont("DejaVu", 12)
    c.drawString(60, 720, "V/v triển khai phương án bảo mật hệ thống thông tin cấp độ 3")
    c.drawString(60, 700, "Kính gửi: Sở Thông tin và Truyền thông")
    c.showPage()
    c.save()


letter("tests/data/cong-van-toi-mat.pdf", True)
letter("tests/data/cong-van-bao-mat.pdf", False)
