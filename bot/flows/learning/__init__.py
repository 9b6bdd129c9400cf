"""ポイント学習: lessons, 確認テスト and 修了証 (issue, image, verification page)."""
